/**
 * The HTTP adapter of the Engage listener endpoint (notificationUrl): reads the bounded body, asks
 * receive() (./receive.ts, pure) for the verdict and the messages, passes admission control, writes.
 * 200 only once every message is durably enqueued; any failure while writing is 503 (the pusher
 * retries the same Id, whose messages keep their ids); never 410 (the pusher would stop).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { getConfig } from '../config/settings';
import { isStorageUnavailable } from '../errors';
import { QueueWriter, writerOptions } from '../queue/writer';
import { deadlineSignal, getStorage } from '../storage';
import { getDecoder } from './decoder';
import { Admission } from './admission';
import { judgeHeaders, receive, type ReceiveSettings } from './receive';
import { compileRoutes } from './routes';
import { SIGNATURE_HEADER } from './signature';
import { count, record, entryKind, inSpan, invocationContext, SpanKind } from '../telemetry';

/** Longest `echo` value answered (the ASP.NET check sends a GUID). */
const MAX_ECHO_LENGTH = 1024;

interface WebhookState extends ReceiveSettings {
  writer?: Promise<QueueWriter>;
  admission: Admission;
}

let state: WebhookState | undefined;

function getState(): WebhookState {
  const config = getConfig();
  if (!state || state.config !== config) {
    // (ENGAGE_SIGNATURE_MODE=enforce without ENGAGE_WEBHOOK_SECRET is refused by loadConfig.)
    const limits = { maxDepth: config.ENGAGE_WEBHOOK_MAX_DEPTH, maxElements: config.ENGAGE_WEBHOOK_MAX_ELEMENTS };
    state = {
      config,
      routes: compileRoutes(config.ENGAGE_ROUTES, config.ENGAGE_UNROUTED_QUEUE),
      limits,
      decoder: getDecoder(config.ENGAGE_DECODER, limits),
      admission: new Admission(config.ENGAGE_WEBHOOK_MAX_IN_FLIGHT_MESSAGES),
    };
  }
  return state;
}

function getWriter(s: WebhookState): Promise<QueueWriter> {
  if (!s.writer) {
    const p = getStorage().then((storage) => {
      const writer = new QueueWriter(storage, writerOptions(s.config, undefined, 'engage'));
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
      const res = await post(req, context, s);
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

/** Reads the body, stopping as soon as it exceeds `limit` (then returns undefined). */
async function readBody(req: HttpRequest, limit: number): Promise<Uint8Array | undefined> {
  const stream = req.body;
  if (!stream) return new Uint8Array(0);
  const reader = (stream as ReadableStream<Uint8Array>).getReader();
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
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** The HTTP side of a POST: headers and body to receive(), its messages to the writer, the verdict to an answer. */
async function post(req: HttpRequest, context: InvocationContext, s: WebhookState): Promise<HttpResponseInit> {
  const { config } = s;
  // The answer's deadline when storage hangs: counted from the start, so parsing is included.
  const deadline = deadlineSignal(config.ENGAGE_STORAGE_DEADLINE_MS);
  const started = performance.now();
  const early = judgeHeaders(req.headers, s);
  if (early) return reject(early.status, early.reason!, context);
  let raw: Uint8Array | undefined;
  try {
    raw = await readBody(req, config.ENGAGE_WEBHOOK_MAX_BYTES);
  } catch {
    return reject(400, 'the request body could not be read', context);
  }
  if (raw === undefined) return reject(413, `body larger than ${config.ENGAGE_WEBHOOK_MAX_BYTES} bytes`, context);

  const r = receive(raw, req.headers, s);
  if (r.signature && r.signature.check !== 'valid')
    count('signatureFailures', 1, { reason: r.signature.check, mode: config.ENGAGE_SIGNATURE_MODE });
  if (r.signature?.previous)
    context.log(
      `engage webhook: ${SIGNATURE_HEADER} matches ENGAGE_WEBHOOK_SECRET_PREVIOUS (rotation under way: re-register the listeners with the new secret)`,
    );
  for (const w of r.warnings) context.warn(`engage webhook: ${w}`);
  if (r.status !== 200) return reject(r.status, r.reason!, context);
  const envelope = r.envelope!;
  const { messages, deadLetters: deadLettered, filterUnjudged: unjudged, unrouted, notifications } = r;

  // Admission control: refused before the first write when it would not finish in time or the budget is spent.
  const admitted = s.admission.admit(messages.length, config.ENGAGE_STORAGE_DEADLINE_MS - (performance.now() - started));
  if (!admitted.ok) {
    count('webhookShed', 1, { reason: admitted.reason });
    context.warn(
      `engage webhook: ${messages.length} message(s) refused before any write (${admitted.reason === 'budget' ? `${s.admission.inFlight} in flight, ENGAGE_WEBHOOK_MAX_IN_FLIGHT_MESSAGES=${config.ENGAGE_WEBHOOK_MAX_IN_FLIGHT_MESSAGES}` : `estimated ${Math.round(admitted.estimateMs ?? 0)} ms to write, past the deadline`}), answering 503 (Id=${envelope.Id})`,
    );
    return {
      status: 503,
      headers: { 'retry-after': String(admitted.retryAfterSeconds) },
      jsonBody: { error: 'too many messages in flight, retry later' },
    };
  }
  record('webhookInFlight', s.admission.inFlight);
  let succeeded = false;
  try {
    const writer = await getWriter(s);
    await writer.sendAll(messages, { signal: deadline });
    succeeded = true;
  } catch (err) {
    // Some messages may be stored already: 503 makes the pusher retry the same Id (same envelope ids).
    const retry = `answering 503 so the pusher retries (Id=${envelope.Id}, Attempt=${envelope.Attempt ?? '?'})`;
    if (isStorageUnavailable(err)) {
      count('storageUnavailable', 1, { function: context.functionName });
      context.warn(`engage webhook: queue storage unavailable, ${retry}`);
    } else {
      context.error(`engage webhook: writing ${messages.length} message(s) failed (${describeError(err)}), ${retry}`);
    }
    return { status: 503, headers: { 'retry-after': '60' }, jsonBody: { error: 'queue storage unavailable, retry later' } };
  } finally {
    admitted.release(succeeded);
    record('webhookInFlight', s.admission.inFlight);
  }
  count('webhookNotifications', notifications);
  if (unjudged > 0) context.warn(`engage webhook: ${unjudged} notification(s) kept by a filtered route without a readable resource id`);
  if (unrouted > 0)
    context.warn(`engage webhook: ${unrouted} notification(s) with an Action no route lists went to ${s.routes.unroutedQueue}`);
  if (deadLettered > 0)
    context.warn(
      `engage webhook: ${deadLettered} notification(s) could not be decoded or validated and went to ${config.DEADLETTER_QUEUE}`,
    );
  context.log(
    `engage webhook: Id=${envelope.Id} Attempt=${envelope.Attempt ?? '?'} ${notifications} notification(s) → ${messages.length - deadLettered} message(s)`,
  );
  return {
    status: 200,
    jsonBody: {
      id: envelope.Id,
      notifications,
      messages: messages.length - deadLettered,
      filterUnjudged: unjudged,
      unrouted,
      deadLettered,
    },
  };
}

/** First line of an error, for a log line (storage errors carry no secrets, but may be long). */
function describeError(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.split('\n')[0].slice(0, 300);
}
