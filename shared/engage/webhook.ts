/**
 * The Engage listener endpoint (notificationUrl) behind `functions/engageWebhook`:
 * - `GET ?echo=X` answers X (the ASP.NET WebHooks URL check);
 * - `POST` takes the pusher envelope: body limit (413), JSON only (415 / 400), `ms-signature` check
 *   (mode off | log | enforce → 401), bounded parsing (nesting depth and element count of the body → 400;
 *   of a decoded payload → that notification is dead-lettered), zod validation of the envelope (400 with a reason), then every
 *   notification is classified first: DynamicParamA decoded and validated, routed by Action
 *   (filtered routes keep only their resources), or, when it cannot be read or validated, kept in
 *   the dead-letter queue (DEADLETTER_QUEUE) with the reason, so one bad notification no longer
 *   costs the others. Every message is serialised before the first write; then everything is
 *   written; 200 only once every message is durably enqueued. Any failure while writing answers 503
 *   (the pusher retries the same Id, whose messages carry the same ids), never 500. It never answers
 *   410 (the pusher would stop).
 *   Storing has a deadline (ENGAGE_STORAGE_DEADLINE_MS): when storage hangs, what is in flight is
 *   cancelled and the answer is 503 with Retry-After within that time.
 * Settings are parsed once and the QueueWriter is cached, so the hot path is validation + sendAll.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { getConfig, type Config } from '../config';
import { cloudEvent, formatBody, type CloudEvent, type MessageFormat } from '../envelope';
import { deadLetterEvent } from '../deadletter';
import { describeIssues, isStorageUnavailable } from '../errors';
import { messageText, QueueWriter, writerOptions, type OutgoingMessage } from '../queue/writer';
import { getStorage } from '../storage';
import { getDecoder, type DecodeResult } from './decoder';
import { engageEventType, EVENT_TYPE_NAMES, payloadSchemas, type EventTypeName } from './events';
import { parseJsonWithin, type JsonLimits, type JsonRefusal } from './jsonLimits';
import { pusherEnvelopeSchema, pusherNotificationSchema, type PusherNotification } from './pusherEnvelope';
import { compileRoutes, findResourceIds, routeNotification, type RouteTable } from './routes';
import { checkSignatureRotating, SIGNATURE_HEADER } from './signature';
import { count, entryKind, inSpan, invocationContext, SpanKind } from '../telemetry';

/** Longest `echo` value answered (the ASP.NET check sends a GUID). */
const MAX_ECHO_LENGTH = 1024;

interface WebhookState {
  config: Config;
  routes: RouteTable;
  limits: JsonLimits;
  decoder: (dynamicParamA: string) => DecodeResult;
  writer?: Promise<QueueWriter>;
}

/** Process-wide counters (also logged per request): notifications kept by a filtered route without a readable resource id, and unrouted ones. */
export const webhookCounters = { requests: 0, notifications: 0, messages: 0, filterUnjudged: 0, unrouted: 0, deadLettered: 0, rejected: 0, storageUnavailable: 0, writeFailed: 0 };

let state: WebhookState | undefined;

function getState(): WebhookState {
  const config = getConfig();
  if (!state || state.config !== config) {
    // (ENGAGE_SIGNATURE_MODE=enforce without ENGAGE_WEBHOOK_SECRET is refused by loadConfig.)
    const limits = { maxDepth: config.ENGAGE_WEBHOOK_MAX_DEPTH, maxElements: config.ENGAGE_WEBHOOK_MAX_ELEMENTS };
    state = { config, routes: compileRoutes(config.ENGAGE_ROUTES, config.ENGAGE_UNROUTED_QUEUE), limits, decoder: getDecoder(config.ENGAGE_DECODER, limits) };
  }
  return state;
}

function getWriter(s: WebhookState): Promise<QueueWriter> {
  if (!s.writer) {
    const p = getStorage().then((storage) => {
      const writer = new QueueWriter(storage, writerOptions(s.config));
      // Create every routed queue once, up front, so consumers find them; failures retry on first send.
      for (const q of s.routes.queues) writer.ensureQueue(q).catch(() => undefined);
      return writer;
    });
    s.writer = p;
    p.catch(() => (s.writer = undefined));
  }
  return s.writer;
}

/** Forgets cached settings and writer (tests change settings between cases). */
export function resetWebhook(): void {
  state = undefined;
}

function text(status: number, body: string, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, body, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } };
}

function reject(status: number, reason: string, context: InvocationContext): HttpResponseInit {
  webhookCounters.rejected++;
  context.warn(`engage webhook: ${status} ${reason}`);
  return { status, jsonBody: { error: reason } };
}

export async function handle(req: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let s: WebhookState;
  try {
    s = getState();
  } catch (err) {
    context.error(`engage webhook misconfigured: ${err instanceof Error ? err.message : String(err)}`);
    return { status: 500, jsonBody: { error: 'webhook is misconfigured (see function logs)' } };
  }
  if (req.method === 'GET') return echo(req);
  if (req.method !== 'POST') return text(405, 'method not allowed', { allow: 'GET, POST' });
  return traced(req, context, s);
}

/**
 * One span per POST (SERVER when it starts the trace, INTERNAL under the host's invocation span);
 * the queue writes are its children, so the consumers continue this trace. Counted by status.
 */
function traced(req: HttpRequest, context: InvocationContext, s: WebhookState): Promise<HttpResponseInit> {
  const parent = invocationContext(context);
  const attributes = { 'http.request.method': 'POST', 'http.route': 'engage/webhook', 'faas.name': context.functionName };
  return inSpan('POST engage/webhook', { kind: entryKind(parent, SpanKind.SERVER), parent, attributes }, async (span) => {
    let status = 500;
    try {
      const res = await receive(req, context, s);
      status = res.status ?? 200;
      return res;
    } finally {
      span.setAttribute('http.response.status_code', status);
      count('webhookRequests', 1, { status });
    }
  });
}

function echo(req: HttpRequest): HttpResponseInit {
  const value = req.query.get('echo');
  if (value === null || value === '') return { status: 400, jsonBody: { error: 'GET needs an ?echo= value (the WebHooks URL check)' } };
  if (value.length > MAX_ECHO_LENGTH) return { status: 400, jsonBody: { error: `echo value longer than ${MAX_ECHO_LENGTH} characters` } };
  return text(200, value);
}

function isJsonContentType(value: string | null): boolean {
  if (value === null || value.trim() === '') return true; // undeclared: judged by parsing
  const mediaType = value.split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || mediaType === 'text/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

/** Reads the body, stopping as soon as it exceeds `limit` (then returns undefined). */
async function readBody(req: HttpRequest, limit: number): Promise<Uint8Array | undefined> {
  const stream = req.body;
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** The setting behind a limit, named in the reason of a refusal. */
const LIMIT_SETTINGS: Record<keyof JsonLimits, string> = { maxDepth: 'ENGAGE_WEBHOOK_MAX_DEPTH', maxElements: 'ENGAGE_WEBHOOK_MAX_ELEMENTS' };

function refusalReason(subject: string, refusal: JsonRefusal): string {
  return `${subject} ${refusal.reason}${refusal.exceeded ? ` (${LIMIT_SETTINGS[refusal.exceeded]})` : ''}`;
}

async function receive(req: HttpRequest, context: InvocationContext, s: WebhookState): Promise<HttpResponseInit> {
  const { config } = s;
  // The answer's deadline when storage hangs: counted from the start, so parsing is included.
  const deadline = AbortSignal.timeout(config.ENGAGE_STORAGE_DEADLINE_MS);
  webhookCounters.requests++;
  const limit = config.ENGAGE_WEBHOOK_MAX_BYTES;
  if (!isJsonContentType(req.headers.get('content-type'))) {
    return reject(415, `content-type must be application/json (got "${req.headers.get('content-type')}")`, context);
  }
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return reject(413, `body larger than ${limit} bytes`, context);
  let raw: Uint8Array | undefined;
  try {
    raw = await readBody(req, limit);
  } catch {
    return reject(400, 'the request body could not be read', context);
  }
  if (raw === undefined) return reject(413, `body larger than ${limit} bytes`, context);

  // Signature over the raw bytes, before anything else reads them.
  if (config.ENGAGE_SIGNATURE_MODE !== 'off' && config.ENGAGE_WEBHOOK_SECRET) {
    const { check, previous } = checkSignatureRotating({ current: config.ENGAGE_WEBHOOK_SECRET, previous: config.ENGAGE_WEBHOOK_SECRET_PREVIOUS }, raw, req.headers.get(SIGNATURE_HEADER));
    if (previous) context.log(`engage webhook: ${SIGNATURE_HEADER} matches ENGAGE_WEBHOOK_SECRET_PREVIOUS (rotation under way: re-register the listeners with the new secret)`);
    if (check !== 'valid') {
      count('signatureFailures', 1, { reason: check, mode: config.ENGAGE_SIGNATURE_MODE });
      if (config.ENGAGE_SIGNATURE_MODE === 'enforce') return reject(401, `${SIGNATURE_HEADER} ${check}`, context);
      context.warn(`engage webhook: ${SIGNATURE_HEADER} ${check} (ENGAGE_SIGNATURE_MODE=log, accepted)`);
    }
  }

  if (raw.byteLength === 0) return reject(400, 'empty body', context);
  const json = parseJsonWithin(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'), s.limits);
  if (!json.ok) return reject(400, refusalReason('body', json), context);
  const read = readEnvelope(json.value);
  if (!read.ok) return reject(400, `invalid pusher envelope: ${read.reason}`, context);
  const { envelope, notifications } = read;

  // 1. Classify every notification: routed, or kept in the dead-letter queue with the reason.
  const time = new Date().toISOString();
  const classified = notifications.map((n, i) => classify(s, n, `${envelope.Id}:${i}`, i, time, context));

  // 2. Build (and serialise) every message, then write everything, at once.
  const messages: OutgoingMessage[] = [];
  let unjudged = 0;
  let unrouted = 0;
  let deadLettered = 0;
  const defaultFormat: MessageFormat = config.ENGAGE_MESSAGE_FORMAT;
  for (const [i, c] of classified.entries()) {
    const id = `${envelope.Id}:${i}`;
    if (c.kind === 'dead') {
      deadLettered++;
      const location = { envelopeId: envelope.Id, index: i, ...(envelope.Attempt !== undefined ? { attempt: envelope.Attempt } : {}) };
      const event = deadLetterEvent({ id, source: config.ENGAGE_EVENT_SOURCE, time, data: { reason: c.reason, origin: 'engage-webhook', location, received: c.received } });
      messages.push({ queue: config.DEADLETTER_QUEUE, body: event, text: messageText(event), key: id });
      context.warn(`engage webhook: ${c.reason}: kept in ${config.DEADLETTER_QUEUE} (Id=${envelope.Id})`);
      continue;
    }
    for (const d of routeNotification(s.routes, c.action, c.resourceIds)) {
      if (d.reason === 'filter-unjudged') unjudged++;
      if (d.reason === 'unrouted') unrouted++;
      const body = formatBody(c.event, d.format ?? defaultFormat);
      messages.push({ queue: d.queue, body, text: messageText(body), key: id });
    }
  }

  try {
    const writer = await getWriter(s);
    await writer.sendAll(messages, { signal: deadline });
  } catch (err) {
    // Some messages may be stored already: 503 makes the pusher retry the same Id (same envelope ids).
    const retry = `answering 503 so the pusher retries (Id=${envelope.Id}, Attempt=${envelope.Attempt ?? '?'})`;
    if (isStorageUnavailable(err)) {
      webhookCounters.storageUnavailable++;
      count('storageUnavailable', 1, { function: context.functionName });
      context.warn(`engage webhook: queue storage unavailable, ${retry}`);
    } else {
      webhookCounters.writeFailed++;
      context.error(`engage webhook: writing ${messages.length} message(s) failed (${describeError(err)}), ${retry}`);
    }
    return { status: 503, headers: { 'retry-after': '60' }, jsonBody: { error: 'queue storage unavailable, retry later' } };
  }

  webhookCounters.notifications += notifications.length;
  count('webhookNotifications', notifications.length);
  webhookCounters.messages += messages.length - deadLettered;
  webhookCounters.filterUnjudged += unjudged;
  webhookCounters.unrouted += unrouted;
  webhookCounters.deadLettered += deadLettered;
  if (unjudged > 0) context.warn(`engage webhook: ${unjudged} notification(s) kept by a filtered route without a readable resource id (total ${webhookCounters.filterUnjudged})`);
  if (unrouted > 0) context.warn(`engage webhook: ${unrouted} notification(s) with an Action no route lists went to ${s.routes.unroutedQueue}`);
  if (deadLettered > 0) context.warn(`engage webhook: ${deadLettered} notification(s) could not be decoded or validated and went to ${config.DEADLETTER_QUEUE} (total ${webhookCounters.deadLettered})`);
  context.log(`engage webhook: Id=${envelope.Id} Attempt=${envelope.Attempt ?? '?'} ${notifications.length} notification(s) → ${messages.length - deadLettered} message(s)`);
  return {
    status: 200,
    jsonBody: { id: envelope.Id, notifications: notifications.length, messages: messages.length - deadLettered, filterUnjudged: unjudged, unrouted, deadLettered },
  };
}

/** A notification as the envelope holds it: valid for its schema, or not (with the reason and the value as received). */
type EnvelopeEntry = { ok: true; notification: PusherNotification; received: unknown } | { ok: false; reason: string; received: unknown };

/**
 * The envelope with its notifications judged one by one: problems confined to single notifications
 * (e.g. one without an Action) leave the others valid; any other problem rejects the envelope.
 */
function readEnvelope(json: unknown): { ok: true; envelope: { Id: string; Attempt?: number }; notifications: EnvelopeEntry[] } | { ok: false; reason: string } {
  const parsed = pusherEnvelopeSchema.safeParse(json);
  if (parsed.success) {
    const list = (json as { Notifications: unknown[] }).Notifications;
    return { ok: true, envelope: parsed.data, notifications: parsed.data.Notifications.map((notification, i) => ({ ok: true, notification, received: list[i] })) };
  }
  const confined = parsed.error.issues.every((i) => i.path[0] === 'Notifications' && typeof i.path[1] === 'number');
  if (!confined) return { ok: false, reason: describeIssues(parsed.error) };
  const envelope = pusherEnvelopeSchema.omit({ Notifications: true }).parse(json);
  const list = (json as { Notifications: unknown[] }).Notifications;
  const notifications = list.map((raw, i): EnvelopeEntry => {
    const n = pusherNotificationSchema.safeParse(raw);
    return n.success ? { ok: true, notification: n.data, received: raw } : { ok: false, reason: `Notifications.${i} is not a notification (${describeIssues(n.error)})`, received: raw };
  });
  return { ok: true, envelope, notifications };
}

type Classified =
  | { kind: 'route'; action: string; resourceIds: string[] | undefined; event: CloudEvent }
  | { kind: 'dead'; reason: string; received: unknown };

/** Decodes and validates one notification: its CloudEvent and routing keys, or why it goes to the dead-letter queue. */
function classify(s: WebhookState, entry: EnvelopeEntry, id: string, i: number, time: string, context: InvocationContext): Classified {
  const { config } = s;
  if (!entry.ok) return { kind: 'dead', reason: entry.reason, received: entry.received };
  const n = entry.notification;
  const decoded = s.decoder(n.DynamicParamA);
  if (!decoded.ok) return { kind: 'dead', reason: `${refusalReason(`Notifications.${i}.DynamicParamA`, decoded)} (ENGAGE_DECODER=${config.ENGAGE_DECODER})`, received: entry.received };
  const action = n.Action.trim().toUpperCase();
  const known = EVENT_TYPE_NAMES.includes(action as EventTypeName) ? (action as EventTypeName) : undefined;
  if (known && decoded.structured) {
    const check = payloadSchemas[known].safeParse(decoded.value);
    if (!check.success) {
      const reason = `Notifications.${i}.DynamicParamA does not match the ${known} payload: ${describeIssues(check.error)}`;
      if (config.ENGAGE_PAYLOAD_VALIDATION === 'enforce') return { kind: 'dead', reason, received: entry.received };
      context.warn(`engage webhook: ${reason} (ENGAGE_PAYLOAD_VALIDATION=log, enqueued)`);
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

/** First line of an error, for a log line (storage errors carry no secrets, but may be long). */
function describeError(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.split('\n')[0]!.slice(0, 300);
}
