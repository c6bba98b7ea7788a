/**
 * What every invocation gets from the local host, whatever its trigger: a real @azure/functions
 * InvocationContext (logs routed to the host log, secrets redacted), output bindings written after
 * the handler succeeds, and the "Executing / Executed" log lines Core Tools prints.
 */
import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import { InvocationContext, type FunctionOutput, type LogLevel } from '@azure/functions';
import type { FunctionDefinition } from '../../shared/definition';
import type { QueueWriter } from '../../shared/queue/writer';
import { Redactor } from '../../shared/redact';
import { resolveSettingRefs } from './hostConfig';

export type LogSink = (line: string) => void;

/**
 * The default log sink: stdout, with the lines of one event-loop turn written together (stdout on
 * a pipe is synchronous, and three writes per HTTP request were a measurable share of its cost).
 */
export function batchedStdout(): LogSink {
  let pending: string[] = [];
  const flush = () => {
    const text = pending.join('');
    pending = [];
    process.stdout.write(text);
  };
  process.once('exit', () => pending.length && process.stdout.write(pending.join('')));
  return (line) => {
    if (pending.push(`${line}\n`) === 1) setImmediate(flush);
  };
}

export class HostLog {
  private redactor: Redactor;

  constructor(
    private readonly sink: LogSink,
    secrets: string[],
  ) {
    this.redactor = new Redactor(secrets);
  }

  setSecrets(values: string[]): void {
    this.redactor = new Redactor(values);
  }

  write(level: LogLevel | 'info', scope: string, message: string): void {
    const text = this.redactor.text(message);
    this.sink(`[${new Date().toISOString()}] ${level === 'information' || level === 'info' ? 'info' : level} ${scope}: ${text}`);
  }
}

export function createContext(def: FunctionDefinition, log: HostLog, triggerMetadata: Record<string, unknown>): InvocationContext {
  const invocationId = randomUUID();
  return new InvocationContext({
    invocationId,
    functionName: def.name,
    triggerMetadata,
    options: { trigger: { type: def.trigger.kind === 'storageQueue' ? 'queueTrigger' : `${def.trigger.kind}Trigger`, name: 'trigger' }, extraInputs: [], extraOutputs: def.extraOutputs ?? [] },
    logHandler: (level, ...args) => log.write(level, `Functions.${def.name}`, format(...args)),
  });
}

/** Runs a handler with the Core Tools-style log lines; rethrows its error after logging it. */
export async function invoke<T>(def: FunctionDefinition, log: HostLog, context: InvocationContext, reason: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  log.write('information', 'host', `Executing 'Functions.${def.name}' (Reason='${reason}', Id=${context.invocationId})`);
  try {
    const result = await run();
    log.write('information', 'host', `Executed 'Functions.${def.name}' (Succeeded, Id=${context.invocationId}, Duration=${Date.now() - started}ms)`);
    return result;
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    log.write('error', 'host', `Executed 'Functions.${def.name}' (Failed, Id=${context.invocationId}, Duration=${Date.now() - started}ms) ${message}`);
    throw err;
  }
}

/** Writes the storageQueue output bindings the handler set (a value or an array of values, one message each). */
export async function writeOutputBindings(def: FunctionDefinition, context: InvocationContext, writer: () => Promise<QueueWriter>): Promise<void> {
  for (const output of def.extraOutputs ?? []) {
    const binding = output as FunctionOutput & { queueName?: string };
    if (binding.type !== 'queue' || !binding.queueName) continue;
    const value = context.extraOutputs.get(output);
    if (value === undefined || value === null) continue;
    const queue = resolveSettingRefs(binding.queueName, process.env);
    const items = Array.isArray(value) ? value : [value];
    await (await writer()).sendAll(items.map((body) => ({ queue, body })));
  }
}
