/**
 * Call commands from the NOOJEE_COMMANDS_QUEUE, executed against the CallManagementAPI:
 *   {"action":"answer", "uniqueId":"1403148776.566", "exten":"SIP/101", "answerString"?: "..."}
 *   {"action":"hangup", "extenOrUniqueId":"1403148776.566"}
 *   {"action":"dial", "number":"0412345678", "extenOrUniqueId":"SIP/100", "autoAnswer"?, "callerId"?,
 *    "phoneCaption"?, "monitored"?, "record"?, "tag"?}
 * The message may also be a CloudEvent whose `data` is the command. An invalid message or an upstream
 * failure throws, so the queue trigger retries and finally moves it to `<queue>-poison`.
 */
import type { InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { getConfig, type Config } from '../config/settings';
import { isCloudEvent } from '../envelope';
import { readMessageBody } from '../queue/reader';
import { getStorage } from '../storage';
import type { CommandResponse, NoojeeClient } from './client';
import { createNoojeeClient } from './setup';

const text = z.string().trim().regex(/\S/, 'must be a non-empty string'); // (a pattern, so the JSON Schema of the contract says the same)
const flag = z.union([z.boolean(), z.enum(['true', 'false', 'yes', 'no']).transform((v) => v === 'true' || v === 'yes')]);

export const callCommandSchema = z.discriminatedUnion(
  'action',
  [
    z.object({ action: z.literal('answer'), uniqueId: text, exten: text, answerString: z.string().optional() }),
    z.object({ action: z.literal('hangup'), extenOrUniqueId: text }),
    z.object({
      action: z.literal('dial'),
      number: text,
      extenOrUniqueId: text,
      autoAnswer: flag.optional(),
      callerId: z.string().optional(),
      phoneCaption: z.string().optional(),
      monitored: flag.optional(),
      record: flag.optional(),
      tag: z.string().optional(),
    }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? 'action must be one of answer, hangup, dial' : undefined) },
);

export type CallCommand = z.infer<typeof callCommandSchema>;

export class InvalidCallCommandError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid call command: ${problems.join('; ')}`);
    this.name = 'InvalidCallCommandError';
  }
}

/** Validates a decoded message body (a command, or a CloudEvent carrying one in `data`). */
export function parseCallCommand(body: unknown): CallCommand {
  const candidate = isCloudEvent(body) ? body.data : body;
  const parsed = callCommandSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new InvalidCallCommandError(parsed.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`));
  }
  return parsed.data;
}

export function executeCallCommand(
  client: Pick<NoojeeClient, 'answer' | 'hangup' | 'dial'>,
  command: CallCommand,
  defaultAnswerString?: string,
): Promise<CommandResponse> {
  switch (command.action) {
    case 'answer':
      return client.answer({ uniqueId: command.uniqueId, exten: command.exten, answerString: command.answerString ?? defaultAnswerString });
    case 'hangup':
      return client.hangup(command.extenOrUniqueId);
    case 'dial': {
      const { action: _action, ...dial } = command;
      return client.dial(dial);
    }
  }
}

/** Queue-trigger entry: decode, validate, execute; throws on anything that should be retried / poisoned. */
export async function handleCallCommand(
  queueEntry: unknown,
  context: InvocationContext,
  config: Config = getConfig(),
): Promise<CommandResponse> {
  const body = await readMessageBody(queueEntry, await getStorage());
  const command = parseCallCommand(body);
  const client = createNoojeeClient(config, (method, code, message) =>
    context.warn(`noojee: ${method} answered warning Code ${code}: ${message ?? ''}`),
  );
  const target =
    command.action === 'answer'
      ? `${command.uniqueId} on ${command.exten}`
      : command.action === 'hangup'
        ? command.extenOrUniqueId
        : `${command.number} from ${command.extenOrUniqueId}`;
  const response = await executeCallCommand(client, command, config.NOOJEE_ANSWER_STRING || undefined);
  const session = response.SessionID ? `, SessionID ${response.SessionID}` : '';
  context.log(`callCommands: ${command.action} ${target}: Code ${response.Code} ${response.Message ?? ''}${session}`.trim());
  return response;
}
