/**
 * The work behind every consumer trigger (see define.ts): decode → resolve claim check → envelope →
 * schema for `type` → handler. Loaded on the first message, so zod and the storage SDK stay off the
 * cold-start path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InvocationContext } from '@azure/functions';
import { cloudEventReadSchema, isCloudEvent, type CloudEvent } from '../envelope';
import { InvalidClaimCheckError, looksLikeClaimCheck, resolveClaimCheck } from '../queue/claimCheck';
import { getStorage } from '../storage';
import { STORAGE_CONNECTION } from './define';
import type { AnyConsumerSpec, ConsumerEvent, ConsumerSchemas, QueueMessageInfo } from './define';
import { describeIssues } from '../errors';
import { secretRedactor } from '../config/settings';
import { InvalidMessageError } from './errors';
import { contextFromCarrier, count, inSpan, invocationContext, linkTo, record, SpanKind, type ConsumerOutcome } from '../telemetry';

/** host.json `extensions.queues.maxDequeueCount` (the host's default, 5, when unset or unreadable). */
let maxDequeue: number | undefined;
export function maxDequeueCount(): number {
  if (maxDequeue === undefined) {
    maxDequeue = 5;
    for (const dir of [process.cwd(), join(__dirname, '..', '..'), join(__dirname, '..', '..', '..')]) {
      try {
        const n = Number(
          (JSON.parse(readFileSync(join(dir, 'host.json'), 'utf8')) as { extensions?: { queues?: { maxDequeueCount?: unknown } } })
            .extensions?.queues?.maxDequeueCount,
        );
        if (Number.isInteger(n) && n > 0) maxDequeue = n;
        break;
      } catch {
        // not there: try the next candidate
      }
    }
  }
  return maxDequeue;
}

export function messageInfo(context: InvocationContext): QueueMessageInfo {
  const meta = (context.triggerMetadata ?? {}) as Record<string, unknown>;
  const count = Number(meta.dequeueCount);
  return {
    messageId: typeof meta.id === 'string' ? meta.id : undefined,
    dequeueCount: Number.isFinite(count) && count > 0 ? count : 1,
    insertionTime:
      typeof meta.insertionTime === 'string'
        ? meta.insertionTime
        : meta.insertionTime instanceof Date
          ? meta.insertionTime.toISOString()
          : undefined,
  };
}

/** Turns what the trigger handed over into a JS value: objects as-is, JSON text parsed, other text kept. */
export function decodeTriggerItem(item: unknown): unknown {
  if (item instanceof Uint8Array) item = Buffer.from(item).toString('utf8');
  if (typeof item !== 'string') return item;
  try {
    return JSON.parse(item) as unknown;
  } catch {
    return item;
  }
}

/**
 * Reads, validates and types one message, then runs the handler. Throws (so the host retries and
 * eventually poisons the message) on an invalid message or a failing handler, after one log line.
 */
export async function processMessage(name: string, spec: AnyConsumerSpec, item: unknown, context: InvocationContext): Promise<void> {
  // One CONSUMER span per message: a child of the span that wrote it (its `traceparent`, also on a
  // claim-check pointer), so upstream → queue → consumer is one operation, linked to this
  // invocation's own trace; without a traceparent (raw format), a child of the invocation.
  const invocation = invocationContext(context);
  const body = decodeTriggerItem(item);
  const carrier = (isCloudEvent(body) || looksLikeClaimCheck(body) ? body : {}) as { traceparent?: unknown; tracestate?: unknown };
  const producer = contextFromCarrier(carrier.traceparent, carrier.tracestate);
  const info = messageInfo(context);
  const attributes = {
    'messaging.system': 'azure_storage_queues',
    'messaging.operation.type': 'process',
    'messaging.message.id': info.messageId ?? '',
    'messaging.message.delivery_count': info.dequeueCount,
    'faas.name': name,
  };
  return inSpan(
    `process ${name}`,
    { kind: SpanKind.CONSUMER, parent: producer ?? invocation, links: producer ? linkTo(invocation) : [], attributes },
    async () => {
      let outcome: ConsumerOutcome = 'retried';
      try {
        const event = await handleMessage(name, spec, item, context, info);
        outcome = event ? 'ok' : 'ignored';
        const upstream = event?.time ? Date.parse(event.time) : NaN;
        if (Number.isFinite(upstream)) record('consumerLatency', Math.max(0, Date.now() - upstream), { function: name });
      } catch (err) {
        outcome = info.dequeueCount >= maxDequeueCount() ? 'poisoned' : 'retried';
        throw err;
      } finally {
        count('consumerMessages', 1, { function: name, outcome });
      }
    },
  );
}

async function handleMessage(
  name: string,
  spec: AnyConsumerSpec,
  item: unknown,
  context: InvocationContext,
  info: QueueMessageInfo,
): Promise<ConsumerEvent<ConsumerSchemas> | undefined> {
  const where = `message ${info.messageId ?? '(no id)'} (dequeueCount ${info.dequeueCount})`;
  let event: ConsumerEvent<ConsumerSchemas> | undefined;
  try {
    event = await readEvent(spec, item, info);
  } catch (err) {
    if (err instanceof InvalidMessageError) {
      context.error(`consumer ${name}: invalid ${where}: ${err.message}. It is retried and then moved to the -poison queue.`);
    }
    throw err;
  }
  if (!event) {
    context.warn(`consumer ${name}: ignored ${where}: no schema for its event type`);
    return undefined;
  }
  try {
    await spec.handler(event, context);
  } catch (err) {
    const reason = secretRedactor().text(err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err));
    context.error(`consumer ${name}: handler failed for event ${event.id} (${event.type}), ${where}: ${reason}`);
    throw err;
  }
  return event;
}

/** The typed event of a message; undefined when its type has no schema and `unknownTypes` is `ignore`. */
export async function readEvent(
  spec: AnyConsumerSpec,
  item: unknown,
  info: QueueMessageInfo,
): Promise<ConsumerEvent<ConsumerSchemas> | undefined> {
  let body = decodeTriggerItem(item);
  if (looksLikeClaimCheck(body)) {
    const storage = await getStorage(spec.connection ?? STORAGE_CONNECTION);
    try {
      body = await resolveClaimCheck(body, storage, spec.claimCheckContainer);
    } catch (err) {
      // Not the bridge's pointer, or its blob is gone / not JSON: invalid (poisoned with the reason). Storage trouble is retried.
      if (err instanceof InvalidClaimCheckError) throw new InvalidMessageError(err.message);
      throw err;
    }
  }

  const format = spec.format ?? 'cloudevents';
  const asEnvelope = format === 'cloudevents' || (format === 'auto' && isCloudEvent(body));
  let attrs: { id: string; type: string; source: string; time?: string; subject?: string; data: unknown };
  let envelope: CloudEvent | undefined;
  if (asEnvelope) {
    const parsed = cloudEventReadSchema.safeParse(body);
    if (!parsed.success) {
      throw new InvalidMessageError(`not a CloudEvents 1.0 envelope (${describeIssues(parsed.error)})`);
    }
    envelope = parsed.data as unknown as CloudEvent;
    attrs = parsed.data;
  } else {
    if (!spec.rawType) throw new InvalidMessageError(`raw message but the consumer declares no rawType`);
    attrs = { id: info.messageId ?? '', type: spec.rawType, source: 'queue', data: body };
  }

  const schemas = spec.schemas as ConsumerSchemas;
  const schema = schemas[attrs.type];
  if (!schema) {
    if (spec.unknownTypes === 'ignore') return undefined;
    throw new InvalidMessageError(
      `event ${attrs.id} has type "${attrs.type}", which this consumer has no schema for (known: ${Object.keys(schemas).join(', ')})`,
    );
  }
  const data = schema.safeParse(attrs.data);
  if (!data.success) {
    const hint = typeof attrs.data === 'string' ? ' (data is a string: a payload the producer left undecoded?)' : '';
    throw new InvalidMessageError(
      `event ${attrs.id} (${attrs.type}): data does not match its schema: ${describeIssues(data.error)}${hint}`,
    );
  }
  return {
    id: attrs.id,
    type: attrs.type,
    source: attrs.source,
    time: attrs.time,
    subject: attrs.subject,
    data: data.data,
    envelope,
    message: info,
  };
}
