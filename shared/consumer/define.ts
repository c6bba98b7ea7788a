/**
 * Typed queue consumers: `defineConsumer(name, options)` is `app.storageQueue(name, options)` with a
 * handler that resolves claim checks, reads the CloudEvents envelope (or the raw payload) and
 * validates `data` with the schema of its `type`; `defineLazyConsumer` loads the spec on the first
 * message. An unreadable message throws InvalidMessageError, so the host retries it and moves it to
 * `<queue>-poison`: nothing vanishes silently. Cheap to load: processing code is imported lazily.
 */
import { app, type InvocationContext, type StorageQueueFunctionOptions, type StorageQueueHandler } from '@azure/functions';
import type { z } from 'zod';
import type { CloudEvent } from '../envelope';

/** The storage connection (app setting prefix) of the built-in functions: Azure Functions' own. */
export const STORAGE_CONNECTION = 'AzureWebJobsStorage';

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
  /** Storage connection prefix used to resolve claim checks (default: the trigger's connection). */
  connection?: string;
  /** The only container claim-check pointers may point into (default: CLAIM_CHECK_CONTAINER, else `claim-checks`). */
  claimCheckContainer?: string;
}

/** The trigger options of `app.storageQueue`: `queueName` (a name or `%SETTING%`) and `connection` (default AzureWebJobsStorage). */
export type ConsumerTrigger = Omit<StorageQueueFunctionOptions, 'handler' | 'connection'> & { connection?: string };

/** A spec of any event types (what a lazily loaded module provides). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyConsumerSpec = ConsumerSpec<any>;

/** Identity helper so a module loaded by `defineLazyConsumer` can declare its spec with the event types inferred. */
export function consumerSpec<S extends ConsumerSchemas>(spec: ConsumerSpec<S>): ConsumerSpec<S> {
  return spec;
}

/** A queue-trigger handler that loads the spec on the first message, then validates and types each message for it. */
function lazyConsumerHandler(load: () => Promise<AnyConsumerSpec>): StorageQueueHandler {
  let spec: Promise<AnyConsumerSpec> | undefined;
  return async (item, context) => {
    spec ??= load();
    spec.catch(() => (spec = undefined));
    const loaded = await spec;
    const { processMessage } = await import('./process');
    await processMessage(context.functionName, { ...loaded, connection: loaded.connection ?? connectionOf(context) }, item, context);
  };
}

/** Registers a typed queue consumer with `app.storageQueue(name, ...)`; returns its handler. */
export function defineConsumer<S extends ConsumerSchemas>(name: string, options: ConsumerTrigger & ConsumerSpec<S>): StorageQueueHandler {
  const { schemas, handler: onEvent, format, rawType, unknownTypes, connection = STORAGE_CONNECTION, ...trigger } = options;
  const spec: ConsumerSpec<S> = { schemas, handler: onEvent, format, rawType, unknownTypes };
  const handler = lazyConsumerHandler(() => Promise.resolve(spec));
  app.storageQueue(name, { ...trigger, connection, handler });
  return handler;
}

/** Like defineConsumer, with the spec loaded on the first message. */
export function defineLazyConsumer(name: string, options: ConsumerTrigger & { load: () => Promise<AnyConsumerSpec> }): StorageQueueHandler {
  const { load, connection = STORAGE_CONNECTION, ...trigger } = options;
  const handler = lazyConsumerHandler(load);
  app.storageQueue(name, { ...trigger, connection, handler });
  return handler;
}

/** The trigger's connection, which claim checks are resolved with unless the spec names one. */
function connectionOf(context: InvocationContext): string {
  const c = (context.options?.trigger as { connection?: unknown } | undefined)?.connection;
  return typeof c === 'string' && c !== '' ? c : STORAGE_CONNECTION;
}
