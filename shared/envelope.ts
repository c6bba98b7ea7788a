/**
 * Message bodies written to the queues. Default: a CloudEvents 1.0 (structured JSON) envelope whose
 * `data` is the upstream payload untouched. `raw`: the payload alone (for consumers written against
 * Eptura's own AzureQueue provider). Envelope ids are deterministic per upstream event, so a
 * redelivery carries the same id and consumers can be idempotent.
 */
export type MessageFormat = 'cloudevents' | 'raw';

export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time?: string;
  subject?: string;
  datacontenttype: 'application/json';
  data: T;
  /** Extension attribute set when `data` was moved to a blob (claim check): `<container>/<blob>`. */
  claimcheck?: string;
  /**
   * CloudEvents Distributed Tracing extension: the W3C trace context of the operation that wrote
   * the message (set by the queue writer when a trace is active), continued by the consumer.
   */
  traceparent?: string;
  tracestate?: string;
}

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
  return typeof v === 'object' && v !== null && (v as { specversion?: unknown }).specversion === '1.0' && typeof (v as { id?: unknown }).id === 'string';
}

/** The message body for a format: the envelope, or its `data` alone. */
export function formatBody(event: CloudEvent, format: MessageFormat): unknown {
  return format === 'raw' ? event.data : event;
}
