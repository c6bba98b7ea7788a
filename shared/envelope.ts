/**
 * Message bodies written to the queues. Default: a CloudEvents 1.0 (structured JSON) envelope whose
 * `data` is the upstream payload untouched. `raw`: the payload alone (for consumers written against
 * Eptura's own AzureQueue provider). Envelope ids are deterministic per upstream event, so a
 * redelivery carries the same id and consumers can be idempotent.
 *
 * The zod schemas below are the one description of the envelope: `CloudEvent` is their type (so
 * `cloudEvent()` can only build what they allow), consumers validate with `cloudEventReadSchema`,
 * and the AsyncAPI contract (`npm run contract`, docs/asyncapi.yaml) is generated from them.
 */
import { z } from 'zod';

export type MessageFormat = 'cloudevents' | 'raw';

/** The CloudEvents 1.0 context attributes the bridge writes (add extension attributes here). */
export const cloudEventAttributes = {
  specversion: z.literal('1.0').describe('CloudEvents specification version.'),
  id: z
    .string()
    .min(1)
    .describe(
      'Deterministic per upstream event: a redelivery or replay of the same event carries the same id (deduplicate on source + id).',
    ),
  source: z.string().min(1).describe('Where the event comes from (a setting per source, e.g. ENGAGE_EVENT_SOURCE).'),
  type: z.string().min(1).describe('Event type, e.g. com.eptura.engage.deskprogression.'),
  time: z.string().describe('When the event happened, or when the bridge received it (ISO 8601).'),
  subject: z
    .string()
    .optional()
    .describe('The resource the event is about, when known (Engage: first resource id; Noojee: the extension).'),
  datacontenttype: z.literal('application/json').describe('`data` is JSON.'),
  /** CloudEvents Distributed Tracing extension: the W3C trace context of the operation that wrote the message (set when a trace is active), continued by the consumer. */
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'must be a W3C traceparent')
    .optional()
    .describe('W3C traceparent of the operation that wrote the message (CloudEvents Distributed Tracing extension).'),
  tracestate: z.string().optional().describe('W3C tracestate of the operation that wrote the message.'),
};

/** A CloudEvents 1.0 envelope as the bridge writes it. */
export const cloudEventSchema = z.object({ ...cloudEventAttributes, data: z.unknown().describe('The upstream payload, untouched.') });

/** What a consumer accepts as an envelope: the attributes it relies on; others (extensions) are allowed. */
export const cloudEventReadSchema = cloudEventSchema
  .pick({ specversion: true, id: true, source: true, type: true, subject: true, data: true })
  .extend({ time: cloudEventAttributes.time.optional() })
  .loose();

export type CloudEvent<T = unknown> = Omit<z.infer<typeof cloudEventSchema>, 'data'> & { data: T };

export function cloudEvent<T>(e: { id: string; source: string; type: string; data: T; time?: string; subject?: string }): CloudEvent<T> {
  const event: CloudEvent<T> = {
    specversion: '1.0',
    id: e.id,
    source: e.source,
    type: e.type,
    time: e.time ?? new Date().toISOString(),
    datacontenttype: 'application/json',
    data: e.data,
  };
  if (e.subject !== undefined) event.subject = e.subject;
  return event;
}

export function isCloudEvent(v: unknown): v is CloudEvent {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { specversion?: unknown }).specversion === '1.0' &&
    typeof (v as { id?: unknown }).id === 'string'
  );
}

/** The message body for a format: the envelope, or its `data` alone. */
export function formatBody(event: CloudEvent, format: MessageFormat): unknown {
  return format === 'raw' ? event.data : event;
}
