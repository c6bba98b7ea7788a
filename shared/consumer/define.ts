/**
 * Typed queue consumers: `defineConsumer({name, queue, schemas, handler})` returns a queue-trigger
 * definition (for `functions/registry.ts`) whose handler
 *  1. takes the message as the trigger hands it over (JSON object or string),
 *  2. resolves a claim-check pointer from blob storage transparently,
 *  3. reads the CloudEvents 1.0 envelope (or, with `format: 'raw'`, the payload alone),
 *  4. validates `data` with the zod schema registered for the event `type`,
 *  5. calls `handler` with a typed event.
 * A message that cannot be read or validated fails with one clear log line and an
 * InvalidMessageError: the host retries it and moves it to `<queue>-poison` after maxDequeueCount,
 * so nothing vanishes silently.
 *
 * This module is cheap to load (types only from zod; the processing code is imported on the first
 * message) so that function files stay thin. `defineLazyConsumer` also defers loading the schemas
 * and the handler themselves (which pull in zod) until the first message.
 */
import type { InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import type { CloudEvent } from '../envelope';
import { STORAGE_CONNECTION, type QueueFunctionDefinition } from '../definition';

/** zod schema per CloudEvents `type`. */
export type ConsumerSchemas = Record<string, z.ZodType>;

/** Where the message came from, as the queue trigger reports it. */
export interface QueueMessageInfo {
  /** Queue message id (trigger metadata `id`). */
  messageId?: string;
  /** How many times the message has been dequeued, this attempt included (1 on the first try). */
  dequeueCount: number;
  /** When the message was first put in the queue (ISO), when known. */
  insertionTime?: string;
}

/** What a handler receives: the envelope attributes and `data` typed by the schema of `type`. */
export type ConsumerEvent<S extends ConsumerSchemas> = {
  [K in keyof S & string]: {
    id: string;
    type: K;
    source: string;
    time?: string;
    subject?: string;
    data: z.infer<S[K]>;
    /** The envelope as received (after claim-check resolution); undefined in `raw` format. */
    envelope?: CloudEvent;
    message: QueueMessageInfo;
  };
}[keyof S & string];

export interface ConsumerSpec<S extends ConsumerSchemas = ConsumerSchemas> {
  /** Schemas by event type; an event whose type has no schema is invalid (or ignored, see `unknownTypes`). */
  schemas: S;
  handler: (event: ConsumerEvent<S>, context: InvocationContext) => Promise<void>;
  /**
   * Message body format: `cloudevents` (default, the envelope), `raw` (the payload alone, as Eptura's
   * AzureQueue provider writes it; the type is then `rawType`), or `auto` (envelope when the body is
   * one, raw otherwise).
   */
  format?: 'cloudevents' | 'raw' | 'auto';
  /** Event type assumed for raw messages (required for `raw` / `auto`). */
  rawType?: keyof S & string;
  /** What to do with an event type that has no schema: `fail` (default: retried, then poison) or `ignore` (logged). */
  unknownTypes?: 'fail' | 'ignore';
  /** Storage connection prefix used to resolve claim checks (default `AzureWebJobsStorage`). */
  connection?: string;
  /** The only container claim-check pointers may point into (default: CLAIM_CHECK_CONTAINER, else `claim-checks`). */
  claimCheckContainer?: string;
}

export interface ConsumerTrigger {
  /** Function name (unique in the app). */
  name: string;
  /** Queue the trigger reads (a name, or `%SETTING%` for an app setting that is always set). */
  queue: string;
  /** Connection setting prefix of the trigger (default `AzureWebJobsStorage`). */
  connection?: string;
}

/** A spec of any event types (what a lazily loaded module provides). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyConsumerSpec = ConsumerSpec<any>;

/** Identity helper so a module can declare a spec with its event types inferred. */
export function consumerSpec<S extends ConsumerSchemas>(spec: ConsumerSpec<S>): ConsumerSpec<S> {
  return spec;
}

/** A queue-trigger definition that validates and types each message before calling `handler`. */
export function defineConsumer<S extends ConsumerSchemas>(options: ConsumerTrigger & ConsumerSpec<S>): QueueFunctionDefinition {
  const { name, queue, connection, ...spec } = options;
  return defineLazyConsumer({ name, queue, connection, load: async () => ({ connection, ...spec }) });
}

/** Like defineConsumer, with the spec (schemas + handler) loaded on the first message (cold start stays cheap). */
export function defineLazyConsumer(options: ConsumerTrigger & { load: () => Promise<AnyConsumerSpec> }): QueueFunctionDefinition {
  const connection = options.connection ?? STORAGE_CONNECTION;
  let spec: Promise<AnyConsumerSpec> | undefined;
  return {
    name: options.name,
    trigger: { kind: 'storageQueue', queueName: options.queue, connection },
    handler: async (item, context) => {
      spec ??= options.load();
      spec.catch(() => (spec = undefined));
      const loaded = await spec;
      const { processMessage } = await import('./process');
      await processMessage(options.name, { connection, ...loaded }, item, context);
    },
  };
}

export { settingOr } from '../definition';
