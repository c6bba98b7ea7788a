/**
 * The webhook's receive step, without HTTP: the body's bytes and the request headers in, a verdict and
 * the messages to write out. Pure (no I/O, no logging, no clock but the `time` it is given), so every
 * rule is unit-testable without a host; shared/engage/webhook.ts adapts HTTP to it and writes.
 * Order of the checks: content type (415), size (413), `ms-signature` over the raw bytes (401 when
 * enforced), empty body / JSON limits / envelope schema (400), then every notification is classified:
 * routed, or kept for the dead-letter queue with the reason, and every message is serialised.
 */
import type { Config } from '../config/settings';
import { cloudEvent, formatBody, type CloudEvent, type MessageFormat } from '../envelope';
import { deadLetterEvent } from '../deadletter';
import { describeIssues } from '../errors';
import { messageText, type OutgoingMessage } from '../queue/writer';
import type { DecodeResult } from './decoder';
import { engageEventType, EVENT_TYPE_NAMES, payloadSchemas, type EventTypeName } from './events';
import { parseJsonWithin, type JsonLimits, type JsonRefusal } from './jsonLimits';
import { pusherEnvelopeSchema, pusherNotificationSchema, type PusherNotification } from './pusherEnvelope';
import { findResourceIds, routeNotification, type RouteTable } from './routes';
import { checkSignatureRotating, SIGNATURE_HEADER, type SignatureCheck } from './signature';

/** What receive needs: the parsed settings, the compiled routes, the JSON limits and the decoder. */
export interface ReceiveSettings {
  config: Config;
  routes: RouteTable;
  limits: JsonLimits;
  decoder: (dynamicParamA: string) => DecodeResult;
}

/** Request headers, case-insensitive (a Fetch `Headers`, or `new Headers({...})` in a test). */
export interface ReceiveHeaders {
  get(name: string): string | null;
}

/** The signature check's outcome (for the adapter's metrics and logs). */
export interface SignatureVerdict {
  check: SignatureCheck;
  /** Only ENGAGE_WEBHOOK_SECRET_PREVIOUS matched (a rotation is under way). */
  previous: boolean;
}

export interface Received {
  /** 200: write `messages`, then answer 200; otherwise answer this status with `reason`. */
  status: 200 | 400 | 401 | 413 | 415;
  reason?: string;
  envelope?: { Id: string; Attempt?: number };
  notifications: number;
  /** Every message to write (routed ones and dead letters), serialised. */
  messages: OutgoingMessage[];
  /** How many of `messages` are dead letters. */
  deadLetters: number;
  /** Notifications kept by a filtered route without a readable resource id, and unrouted ones. */
  filterUnjudged: number;
  unrouted: number;
  signature?: SignatureVerdict;
  /** Lines for the log (warnings), none of them holding a secret. */
  warnings: string[];
}

/** The setting behind a limit, named in the reason of a refusal. */
const LIMIT_SETTINGS: Record<keyof JsonLimits, string> = {
  maxDepth: 'ENGAGE_WEBHOOK_MAX_DEPTH',
  maxElements: 'ENGAGE_WEBHOOK_MAX_ELEMENTS',
};

function refusalReason(subject: string, refusal: JsonRefusal): string {
  return `${subject} ${refusal.reason}${refusal.exceeded ? ` (${LIMIT_SETTINGS[refusal.exceeded]})` : ''}`;
}

function isJsonContentType(value: string | null): boolean {
  if (value === null || value.trim() === '') return true; // undeclared: judged by parsing
  const mediaType = value.split(';')[0].trim().toLowerCase();
  return mediaType === 'application/json' || mediaType === 'text/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

const refused = (status: Received['status'], reason: string, extra: Partial<Received> = {}): Received => ({
  status,
  reason,
  notifications: 0,
  messages: [],
  deadLetters: 0,
  filterUnjudged: 0,
  unrouted: 0,
  warnings: [],
  ...extra,
});

/**
 * What can be judged from the headers alone, before the body is read: 415 (not JSON) and 413 (a declared
 * Content-Length over ENGAGE_WEBHOOK_MAX_BYTES). undefined when the body should be read.
 */
export function judgeHeaders(headers: ReceiveHeaders, settings: ReceiveSettings): Received | undefined {
  const contentType = headers.get('content-type');
  if (!isJsonContentType(contentType)) return refused(415, `content-type must be application/json (got "${contentType}")`);
  const limit = settings.config.ENGAGE_WEBHOOK_MAX_BYTES;
  const declared = Number(headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return refused(413, `body larger than ${limit} bytes`);
  return undefined;
}

/** The verdict on one POST's body and headers, and the messages to write when it is 200. */
export function receive(bytes: Uint8Array, headers: ReceiveHeaders, settings: ReceiveSettings, time = new Date().toISOString()): Received {
  const { config } = settings;
  const early = judgeHeaders(headers, settings);
  if (early) return early;
  if (bytes.byteLength > config.ENGAGE_WEBHOOK_MAX_BYTES) return refused(413, `body larger than ${config.ENGAGE_WEBHOOK_MAX_BYTES} bytes`);

  // Signature over the raw bytes, before anything else reads them.
  const warnings: string[] = [];
  let signature: SignatureVerdict | undefined;
  if (config.ENGAGE_SIGNATURE_MODE !== 'off' && config.ENGAGE_WEBHOOK_SECRET) {
    signature = checkSignatureRotating(
      { current: config.ENGAGE_WEBHOOK_SECRET, previous: config.ENGAGE_WEBHOOK_SECRET_PREVIOUS },
      bytes,
      headers.get(SIGNATURE_HEADER),
    );
    if (signature.check !== 'valid') {
      if (config.ENGAGE_SIGNATURE_MODE === 'enforce') return refused(401, `${SIGNATURE_HEADER} ${signature.check}`, { signature });
      warnings.push(`${SIGNATURE_HEADER} ${signature.check} (ENGAGE_SIGNATURE_MODE=log, accepted)`);
    }
  }
  const withSignature = signature ? { signature, warnings } : { warnings };

  if (bytes.byteLength === 0) return refused(400, 'empty body', withSignature);
  const json = parseJsonWithin(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), settings.limits);
  if (!json.ok) return refused(400, refusalReason('body', json), withSignature);
  const read = readEnvelope(json.value);
  if (!read.ok) return refused(400, `invalid pusher envelope: ${read.reason}`, withSignature);
  const { envelope, notifications } = read;

  // 1. Classify every notification: routed, or kept in the dead-letter queue with the reason.
  const classified = notifications.map((n, i) => classify(settings, n, `${envelope.Id}:${i}`, i, time, warnings));

  // 2. Build (and serialise) every message.
  const messages: OutgoingMessage[] = [];
  let filterUnjudged = 0;
  let unrouted = 0;
  let deadLetters = 0;
  const defaultFormat: MessageFormat = config.ENGAGE_MESSAGE_FORMAT;
  for (const [i, c] of classified.entries()) {
    const id = `${envelope.Id}:${i}`;
    if (c.kind === 'dead') {
      deadLetters++;
      const location = { envelopeId: envelope.Id, index: i, ...(envelope.Attempt !== undefined ? { attempt: envelope.Attempt } : {}) };
      const event = deadLetterEvent({
        id,
        source: config.ENGAGE_EVENT_SOURCE,
        time,
        data: { reason: c.reason, origin: 'engage-webhook', location, received: c.received },
      });
      messages.push({ queue: config.DEADLETTER_QUEUE, body: event, text: messageText(event), key: id });
      warnings.push(`${c.reason}: kept in ${config.DEADLETTER_QUEUE} (Id=${envelope.Id})`);
      continue;
    }
    for (const d of routeNotification(settings.routes, c.action, c.resourceIds)) {
      if (d.reason === 'filter-unjudged') filterUnjudged++;
      if (d.reason === 'unrouted') unrouted++;
      const body = formatBody(c.event, d.format ?? defaultFormat);
      messages.push({ queue: d.queue, body, text: messageText(body), key: id, about: c.event });
    }
  }
  return { status: 200, envelope, notifications: notifications.length, messages, deadLetters, filterUnjudged, unrouted, ...withSignature };
}

/** A notification as the envelope holds it: valid for its schema, or not (with the reason and the value as received). */
type EnvelopeEntry = { ok: true; notification: PusherNotification; received: unknown } | { ok: false; reason: string; received: unknown };

/**
 * The envelope with its notifications judged one by one: problems confined to single notifications
 * (e.g. one without an Action) leave the others valid; any other problem rejects the envelope.
 */
function readEnvelope(
  json: unknown,
): { ok: true; envelope: { Id: string; Attempt?: number }; notifications: EnvelopeEntry[] } | { ok: false; reason: string } {
  const parsed = pusherEnvelopeSchema.safeParse(json);
  if (parsed.success) {
    const list = (json as { Notifications: unknown[] }).Notifications;
    return {
      ok: true,
      envelope: parsed.data,
      notifications: parsed.data.Notifications.map((notification, i) => ({ ok: true, notification, received: list[i] })),
    };
  }
  const confined = parsed.error.issues.every((i) => i.path[0] === 'Notifications' && typeof i.path[1] === 'number');
  if (!confined) return { ok: false, reason: describeIssues(parsed.error) };
  const envelope = pusherEnvelopeSchema.omit({ Notifications: true }).parse(json);
  const list = (json as { Notifications: unknown[] }).Notifications;
  const notifications = list.map((raw, i): EnvelopeEntry => {
    const n = pusherNotificationSchema.safeParse(raw);
    return n.success
      ? { ok: true, notification: n.data, received: raw }
      : { ok: false, reason: `Notifications.${i} is not a notification (${describeIssues(n.error)})`, received: raw };
  });
  return { ok: true, envelope, notifications };
}

type Classified =
  | { kind: 'route'; action: string; resourceIds: string[] | undefined; event: CloudEvent }
  | { kind: 'dead'; reason: string; received: unknown };

/** Decodes and validates one notification: its CloudEvent and routing keys, or why it goes to the dead-letter queue. */
function classify(s: ReceiveSettings, entry: EnvelopeEntry, id: string, i: number, time: string, warnings: string[]): Classified {
  const { config } = s;
  if (!entry.ok) return { kind: 'dead', reason: entry.reason, received: entry.received };
  const n = entry.notification;
  const decoded = s.decoder(n.DynamicParamA);
  if (!decoded.ok)
    return {
      kind: 'dead',
      reason: `${refusalReason(`Notifications.${i}.DynamicParamA`, decoded)} (ENGAGE_DECODER=${config.ENGAGE_DECODER})`,
      received: entry.received,
    };
  const action = n.Action.trim().toUpperCase();
  const known = EVENT_TYPE_NAMES.includes(action as EventTypeName) ? (action as EventTypeName) : undefined;
  if (known && decoded.structured) {
    const check = payloadSchemas[known].safeParse(decoded.value);
    if (!check.success) {
      const reason = `Notifications.${i}.DynamicParamA does not match the ${known} payload: ${describeIssues(check.error)}`;
      if (config.ENGAGE_PAYLOAD_VALIDATION === 'enforce') return { kind: 'dead', reason, received: entry.received };
      warnings.push(`${reason} (ENGAGE_PAYLOAD_VALIDATION=log, enqueued)`);
    }
  }
  const resourceIds = decoded.structured ? findResourceIds(decoded.value) : undefined;
  const event = cloudEvent({
    id,
    source: config.ENGAGE_EVENT_SOURCE,
    type: engageEventType(action),
    data: decoded.value,
    time,
    ...(resourceIds ? { subject: resourceIds[0] } : {}),
  });
  return { kind: 'route', action, resourceIds, event };
}
