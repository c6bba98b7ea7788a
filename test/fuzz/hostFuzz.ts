/**
 * Fuzz of the local host over HTTP (its own process, Azurite, ENGAGE_SIGNATURE_MODE=enforce): the
 * body families of bodies.ts, signed (mostly), sent with Content-Length or chunked, plus malformed
 * raw HTTP over raw sockets (request lines, headers, Host, percent-encoding, chunking, sizes,
 * timeouts, pipelining, random bytes). Counts statuses per family, checks that every message in the
 * queues is exactly one a 200 promised (and none is missing), and checks for a leak: the run is two
 * equal batches, and the host's live heap after a full GC must not grow from the end of the first to
 * the end of the second by more than LEAK_SLOPE_ALLOWED_MIB (a plateau is not a leak; a slope is). Used by test/integration/host/hostFuzz.test.ts and `npm run fuzz`.
 */
import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite } from '../../local/azurite';
import { EVENT_TYPE_NAMES } from '../../shared/engage/events';
import { signBody } from '../../shared/engage/signature';
import { readMessageBody } from '../../shared/queue/reader';
import { getStorage } from '../../shared/storage';
import { decodeMessageText } from '../helpers/queues';
import { DEFAULT_JSON_LIMITS } from '../../shared/engage/jsonLimits';
import { defaultQueueOf, expectedMessages, foundKey, fuzzBodies, validEnvelope, type FuzzBody, type OracleOptions } from './bodies';
import { FUNCTION_KEY, startHostProcess } from './hostProcess';
import { rawHttp } from './rawHttp';

const SECRET = 'fuzz-listener-secret';
const QUEUE_PREFIX = 'fuzz';
const queueOf = defaultQueueOf(QUEUE_PREFIX);
const oracle: OracleOptions = { queueOf, deadLetterQueue: `${QUEUE_PREFIX}-deadletter`, limits: DEFAULT_JSON_LIMITS };
const WEBHOOK = `/api/engage/webhook?code=${FUNCTION_KEY}`;

export interface HostFuzzOptions {
  requests: number;
  concurrency: number;
  seed: number;
  /** Valid requests before the first heap reading (default 200). */
  warmup?: number;
  /** Progress lines (every 1,000 requests). */
  log?: (line: string) => void;
}

export interface HostFuzzResult {
  requests: number;
  seconds: number;
  /** Status (or `no answer (why)`) → count. */
  statuses: Record<string, number>;
  /** Family → status → count. */
  byFamily: Record<string, Record<string, number>>;
  /** Answers ≥ 500 other than 503. */
  non503Server5xx: number;
  /** Messages in the queues that no 200 promised (or more copies than promised). */
  invalidMessages: number;
  /** Messages a 200 promised that are not in the queues. */
  missingMessages: number;
  messages: number;
  /** Host live heap after a full GC: after the warm-up, after the first half of the run, after the second; MiB. */
  heapAfterGcMiB: { warm: number; firstBatch: number; secondBatch: number };
  /** Host RSS after the run (settled) and its peak; MiB (reported, not checked: RSS plateaus). */
  rssMiB: { after: number; peak: number };
  hostAlive: boolean;
}

/** A status, or `no answer (<error code>)` when the connection failed without one. */
type Status = number | `no answer${string}`;
type Outcome = { family: string; status: Status; body?: FuzzBody };

/** What one request of the run sends. */
type Case =
  | { kind: 'body'; body: FuzzBody; chunked: boolean; auth: 'signed' | 'badSignature' | 'unsigned' | 'noKey' }
  | { kind: 'raw'; family: string; parts: (string | Buffer)[]; gapMs?: number; body?: FuzzBody };

const hostHeader = 'Host: 127.0.0.1\r\n';
const signedRawChunked = (b: FuzzBody) => {
  const text = Buffer.from(b.text);
  const cut = Math.max(1, Math.floor(text.length / 3));
  const chunk = (buf: Buffer) => Buffer.concat([Buffer.from(`${buf.length.toString(16)};ext=1\r\n`), buf, Buffer.from('\r\n')]);
  return Buffer.concat([
    Buffer.from(
      `POST ${WEBHOOK} HTTP/1.1\r\n${hostHeader}Content-Type: application/json\r\nms-signature: ${signBody(SECRET, text)}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
    ),
    chunk(text.subarray(0, cut)),
    chunk(text.subarray(cut)),
    Buffer.from('0\r\nX-Trailer: 1\r\n\r\n'),
  ]);
};

/** Malformed (and a few well-formed) raw requests, by family. */
const rawCases: fc.Arbitrary<Case> = fc.oneof(
  fc
    .oneof(
      fc.string({ maxLength: 40 }).map((s) => `${s}\r\n\r\n`),
      fc.constantFrom(
        'GET\r\n\r\n',
        'GET / HTTP/9.9\r\n\r\n',
        'get / HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /\r\n\r\n',
        'BREW / HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET / HTTP/1.1\nHost: x\n\n',
        '\r\n\r\n',
      ),
      fc.integer({ min: 17_000, max: 80_000 }).map((n) => `GET /api/${'a'.repeat(n)} HTTP/1.1\r\nHost: x\r\n\r\n`),
    )
    .map((t): Case => ({ kind: 'raw', family: 'raw:requestLine', parts: [t] })),
  fc
    .oneof(
      fc
        .constantFrom('[', 'a b', 'x@y', 'ex ample', '[::1', 'h:p', '', 'a/b', 'a\u00ff')
        .map((h) => `GET ${WEBHOOK}&echo=1 HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`),
      fc
        .constantFrom(
          '/api/occupancy/%zz',
          '/api/occupancy/%C0%AF',
          '/api/engage/%',
          'http://[::1/api/health',
          '*',
          '/api/occupancy/%E2%82',
        )
        .map(
          (t) =>
            `GET ${t}${t.startsWith('/api/occ') || t === '/api/engage/%' ? `?code=${FUNCTION_KEY}` : ''} HTTP/1.1\r\n${hostHeader}Connection: close\r\n\r\n`,
        ),
    )
    .map((t): Case => ({ kind: 'raw', family: 'raw:hostOrTarget', parts: [t] })),
  // Targets a URL parser accepts but `new Request()` refuses (user info: credentials in the URL), with and without a key.
  fc
    .tuple(
      fc.constantFrom('//', 'http://', 'https://', '//127.0.0.1@'),
      fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/),
      fc.option(fc.stringMatching(/^[A-Za-z0-9._~%-]{0,12}$/), { nil: undefined }),
      fc.constantFrom('x', '127.0.0.1', 'localhost:7071', '[::1]'),
      fc.constantFrom('/api/health', '/api/engage/webhook', '/', '/api/occupancy/a'),
      fc.boolean(),
    )
    .map(
      ([scheme, user, password, host, path, withKey]) =>
        `GET ${scheme}${user}${password === undefined ? '' : `:${password}`}@${host}${path}${withKey ? `?code=${FUNCTION_KEY}` : ''} HTTP/1.1\r\n${hostHeader}Connection: close\r\n\r\n`,
    )
    .map((t): Case => ({ kind: 'raw', family: 'raw:targetWithUserInfo', parts: [t] })),
  fc
    .oneof(
      fc.constantFrom(
        `POST ${WEBHOOK} HTTP/1.1\r\n${hostHeader}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
        `POST ${WEBHOOK} HTTP/1.1\r\n${hostHeader}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`,
        `POST ${WEBHOOK} HTTP/1.1\r\n${hostHeader}Content-Length: abc\r\n\r\n{}`,
        `POST ${WEBHOOK} HTTP/1.1\r\n${hostHeader}Content-Length: -1\r\n\r\n{}`,
        `POST ${WEBHOOK} HTTP/1.1\r\n${hostHeader}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
        `GET / HTTP/1.1\r\n${hostHeader}No colon here\r\n\r\n`,
        `GET / HTTP/1.1\r\n${hostHeader}Bad Name: x\r\n\r\n`,
        `GET / HTTP/1.1\r\n${hostHeader}X-Folded: a\r\n  continued\r\n\r\n`,
        `GET / HTTP/1.1\r\n${hostHeader}X-Nul: a\u0000b\r\n\r\n`,
        `POST ${WEBHOOK} HTTP/1.1\r\n${hostHeader}Expect: 100-continue\r\nContent-Length: 2\r\n\r\n{}`,
        `POST ${WEBHOOK} HTTP/1.1\r\n${hostHeader}Expect: teapot\r\nContent-Length: 2\r\n\r\n{}`,
        `GET ${WEBHOOK}&echo=%zz HTTP/1.1\r\n${hostHeader}Connection: close\r\n\r\n`,
      ),
      fc.integer({ min: 17, max: 64 }).map((k) => `GET / HTTP/1.1\r\n${hostHeader}X-Big: ${'b'.repeat(k * 1024)}\r\n\r\n`),
      fc.integer({ min: 200, max: 3000 }).map((n) => `GET / HTTP/1.1\r\n${hostHeader}${'X-Many: 1\r\n'.repeat(n)}\r\n`),
    )
    .map((t): Case => ({ kind: 'raw', family: 'raw:headers', parts: [t] })),
  fc
    .oneof(
      fc
        .constantFrom(
          'zz\r\n{}\r\n0\r\n\r\n',
          '2\r\n{}0\r\n\r\n',
          '2\r\n{}\r\n',
          'fffffffffffffffff\r\n',
          '-1\r\n\r\n',
          '2 \r\n{}\r\n0\r\n\r\n',
        )
        .map((b) => `POST ${WEBHOOK} HTTP/1.1\r\n${hostHeader}Transfer-Encoding: chunked\r\n\r\n${b}`),
      fc
        .integer({ min: 2, max: 40 })
        .map(
          (n) =>
            `POST ${WEBHOOK} HTTP/1.1\r\n${hostHeader}Transfer-Encoding: chunked\r\n\r\n${`8000\r\n${'a'.repeat(0x8000)}\r\n`.repeat(n)}0\r\n\r\n`,
        ),
    )
    .map((t): Case => ({ kind: 'raw', family: 'raw:chunked', parts: [t] })),
  validEnvelope.map((e): Case => {
    const body: FuzzBody = { family: 'valid', text: JSON.stringify(e), contentType: 'application/json' };
    return { kind: 'raw', family: 'raw:chunkedValid', parts: [signedRawChunked(body)], body };
  }),
  fc
    .constantFrom(
      [`GET ${WEBHOOK}&echo=a HTTP/1.1\r\n${hostHeader}\r\nGET ${WEBHOOK}&echo=b HTTP/1.1\r\n${hostHeader}\r\nGARBAGE\r\n\r\n`],
      [
        `GET ${WEBHOOK}&echo=a HTTP/1.1\r\n${hostHeader}\r\n`,
        'POST /api/engage/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
        `GET / HTTP/1.1\r\n${hostHeader}Connection: close\r\n\r\n`,
      ],
    )
    .map((parts): Case => ({ kind: 'raw', family: 'raw:pipelined', parts: [...parts], gapMs: 20 })),
  fc
    .constantFrom(
      `GET / HTTP/1.1\r\n${hostHeader}`,
      `POST ${WEBHOOK} HTTP/1.1\r\n${hostHeader}Content-Length: 100\r\n\r\n{"Id":`,
      `GET / HTTP/1.1\r\nHo`,
    )
    .map((t): Case => ({ kind: 'raw', family: 'raw:truncated', parts: [t] })),
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b): Case => ({ kind: 'raw', family: 'raw:bytes', parts: [Buffer.from(b)] })),
);

function cases(): fc.Arbitrary<Case> {
  const auth = fc.oneof(
    { weight: 17, arbitrary: fc.constant('signed' as const) },
    { weight: 1, arbitrary: fc.constantFrom('badSignature' as const, 'unsigned' as const, 'noKey' as const) },
  );
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc.tuple(fuzzBodies(), fc.boolean(), auth).map(([body, chunked, a]): Case => ({ kind: 'body', body, chunked, auth: a })),
    },
    { weight: 2, arbitrary: rawCases },
  );
}

const agent = new Agent({ keepAlive: true });

function sendBody(port: number, c: Extract<Case, { kind: 'body' }>): Promise<Status> {
  const text = Buffer.from(c.body.text);
  const headers: Record<string, string> = { 'content-type': c.body.contentType };
  if (c.auth === 'signed' || c.auth === 'noKey') headers['ms-signature'] = signBody(SECRET, text);
  if (c.auth === 'badSignature') headers['ms-signature'] = signBody('not-the-secret', text);
  if (!c.chunked) headers['content-length'] = String(text.length);
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: Status) => {
      if (!settled) resolve(v);
      settled = true;
    };
    const req = request(
      { host: '127.0.0.1', port, path: c.auth === 'noKey' ? '/api/engage/webhook' : WEBHOOK, method: 'POST', headers, agent },
      (res) => {
        done(res.statusCode!);
        res.resume();
      },
    );
    // (A reused keep-alive socket may meet the server's keep-alive timeout: Node's documented race.)
    req.on('error', (e: NodeJS.ErrnoException) =>
      done(`no answer (${e.code ?? e.message}${req.reusedSocket ? ', reused keep-alive socket' : ''})`),
    );
    req.setTimeout(60_000, () => req.destroy());
    if (!c.chunked) return void req.end(text);
    // Chunked: the body in a few pieces of random-ish sizes.
    const step = Math.max(1, Math.ceil(text.length / (1 + (text.length % 5))));
    for (let i = 0; i < text.length; i += step) req.write(text.subarray(i, i + step));
    req.end();
  });
}

async function runCase(port: number, c: Case): Promise<Outcome> {
  if (c.kind === 'body')
    return {
      family: `${c.body.family}${c.chunked ? ' (chunked)' : ''}${c.auth === 'signed' ? '' : ` (${c.auth})`}`,
      status: await sendBody(port, c),
      ...(c.auth === 'signed' ? { body: c.body } : {}),
    };
  const r = await rawHttp(port, c.parts, { timeoutMs: 30_000, ...(c.gapMs ? { gapMs: c.gapMs } : {}) });
  // A connection may carry several answers (pipelining): the worst one counts.
  const status: Status = r.statuses.length ? Math.max(...r.statuses) : `no answer (${r.error ?? r.end})`;
  return { family: c.family, status, ...(c.body ? { body: c.body } : {}) };
}

/** Every message in the fuzz queues, claim checks resolved, as `queue|id|data` keys. */
async function queuedMessages(connectionString: string): Promise<Map<string, number>> {
  const storage = await getStorage('FUZZ_STORAGE', { FUZZ_STORAGE: connectionString });
  const svc = QueueServiceClient.fromConnectionString(connectionString);
  const found = new Map<string, number>();
  for await (const q of svc.listQueues({ prefix: `${QUEUE_PREFIX}-` })) {
    const client = svc.getQueueClient(q.name);
    for (;;) {
      const got = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 3600 });
      if (got.receivedMessageItems.length === 0) break;
      for (const m of got.receivedMessageItems) {
        const body = (await readMessageBody(decodeMessageText(m.messageText).body, storage)) as { id: string; data: unknown };
        const k = foundKey(q.name, oracle.deadLetterQueue, body);
        found.set(k, (found.get(k) ?? 0) + 1);
      }
    }
  }
  return found;
}

const MiB = (kb: number) => Math.round((kb / 1024) * 10) / 10;

export async function runHostFuzz(options: HostFuzzOptions): Promise<HostFuzzResult> {
  const log = options.log ?? (() => undefined);
  const azurite = await startAzurite();
  const routes = EVENT_TYPE_NAMES.map((n) => ({ eventTypes: [n], queue: queueOf(n) }));
  const host = await startHostProcess({
    AzureWebJobsStorage: azurite.connectionString,
    ENGAGE_DECODER: 'base64-json',
    ENGAGE_SIGNATURE_MODE: 'enforce',
    ENGAGE_WEBHOOK_SECRET: SECRET,
    ENGAGE_ROUTES: JSON.stringify(routes),
    ENGAGE_UNROUTED_QUEUE: queueOf('UNROUTED'),
    DEADLETTER_QUEUE: oracle.deadLetterQueue,
    LOCAL_HTTP_HEADERS_TIMEOUT_MS: '2000',
    LOCAL_HTTP_REQUEST_TIMEOUT_MS: '5000',
  }).catch(async (err: unknown) => {
    await azurite.stop(); // a host that did not start leaves no Azurite behind
    throw err;
  });
  try {
    const expected = new Map<string, number>();
    const statuses: Record<string, number> = {};
    const byFamily: Record<string, Record<string, number>> = {};
    const record = (o: Outcome) => {
      const s = String(o.status);
      statuses[s] = (statuses[s] ?? 0) + 1;
      (byFamily[o.family] ??= {})[s] = ((byFamily[o.family] ??= {})[s] ?? 0) + 1;
      if (o.status === 200 && o.body) for (const k of expectedMessages(o.body.text, oracle)) expected.set(k, (expected.get(k) ?? 0) + 1);
    };

    // Warm-up (valid envelopes only), then the baseline.
    for (const e of fc.sample(validEnvelope, { numRuns: options.warmup ?? 200, seed: options.seed })) {
      const body: FuzzBody = { family: 'valid', text: JSON.stringify(e), contentType: 'application/json' };
      const status = await sendBody(host.port, { kind: 'body', body, chunked: false, auth: 'signed' });
      if (status === 200) for (const k of expectedMessages(body.text, oracle)) expected.set(k, (expected.get(k) ?? 0) + 1);
    }
    const warm = await host.heapAfterGcMiB();

    // Two equal batches (the first and second half of the run), the heap after a GC read after each.
    const started = Date.now();
    const arbitrary = cases();
    const half = Math.floor(options.requests / 2);
    const batch = async (from: number, to: number) => {
      let next = from;
      const worker = async () => {
        while (next < to) {
          const i = next++;
          const [c] = fc.sample(arbitrary, { numRuns: 1, seed: options.seed + 1 + i });
          record(await runCase(host.port, c));
          if ((i + 1) % 1000 === 0) log(`  ${i + 1} requests, host RSS ${MiB(host.rssKb())} MiB`);
        }
      };
      await Promise.all(Array.from({ length: options.concurrency }, worker));
      return host.heapAfterGcMiB();
    };
    const firstBatch = await batch(0, half);
    const secondBatch = await batch(half, 2 * half);
    const seconds = (Date.now() - started) / 1000;

    // A few ordinary requests after the run: the host still does its job.
    for (const e of fc.sample(validEnvelope, { numRuns: 20, seed: options.seed - 1 })) {
      const body: FuzzBody = { family: 'valid', text: JSON.stringify(e), contentType: 'application/json' };
      if ((await sendBody(host.port, { kind: 'body', body, chunked: false, auth: 'signed' })) === 200)
        for (const k of expectedMessages(body.text, oracle)) expected.set(k, (expected.get(k) ?? 0) + 1);
    }
    const after = host.rssKb();
    const peak = host.peakRssKb();
    const hostAlive =
      !host.exited() &&
      (await fetch(`${host.url}/api/health`).then(
        (r) => r.status === 200,
        () => false,
      ));

    const actual = await queuedMessages(azurite.connectionString);
    let invalidMessages = 0;
    let missingMessages = 0;
    let messages = 0;
    for (const [k, n] of actual) {
      messages += n;
      invalidMessages += Math.max(0, n - (expected.get(k) ?? 0));
    }
    for (const [k, n] of expected) missingMessages += Math.max(0, n - (actual.get(k) ?? 0));
    const non503Server5xx = Object.entries(statuses).reduce((sum, [s, n]) => sum + (Number(s) >= 500 && Number(s) !== 503 ? n : 0), 0);
    return {
      requests: options.requests,
      seconds,
      statuses,
      byFamily,
      non503Server5xx,
      invalidMessages,
      missingMessages,
      messages,
      heapAfterGcMiB: { warm, firstBatch, secondBatch },
      rssMiB: { after: MiB(after), peak: MiB(peak) },
      hostAlive,
    };
  } finally {
    agent.destroy();
    await host.stop();
    await azurite.stop();
  }
}

/**
 * The host's live heap after a GC may grow this much between the end of the first batch and the end of
 * the second (equal) batch. A leak of anything per request (a body, a socket, a closure) grows it by
 * the batch's size in requests times that; caches and JIT warm up in the first batch, not the second.
 */
export const LEAK_SLOPE_ALLOWED_MIB = 16;

/** What is wrong with a run (empty when it passed). */
export function fuzzProblems(r: HostFuzzResult): string[] {
  return [
    r.non503Server5xx > 0 && `${r.non503Server5xx} answer(s) 5xx other than 503`,
    r.invalidMessages > 0 && `${r.invalidMessages} invalid message(s)`,
    r.missingMessages > 0 && `${r.missingMessages} missing message(s)`,
    !r.hostAlive && 'the host is not answering any more',
    r.heapAfterGcMiB.secondBatch - r.heapAfterGcMiB.firstBatch > LEAK_SLOPE_ALLOWED_MIB &&
      `host heap after GC grew ${(r.heapAfterGcMiB.secondBatch - r.heapAfterGcMiB.firstBatch).toFixed(1)} MiB over the second batch (a leak; ${LEAK_SLOPE_ALLOWED_MIB} MiB allowed)`,
  ].filter((p): p is string => typeof p === 'string');
}

/** The result as printable lines: figures, the status histogram, and statuses per family. */
export function formatFuzzResult(r: HostFuzzResult): string[] {
  const hist = (h: Record<string, number>) =>
    Object.entries(h)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ');
  return [
    `requests: ${r.requests} in ${r.seconds.toFixed(1)} s`,
    `status histogram: ${hist(r.statuses)}`,
    `5xx other than 503: ${r.non503Server5xx}`,
    `queue messages: ${r.messages} (invalid: ${r.invalidMessages}, missing: ${r.missingMessages})`,
    `host heap after GC: ${r.heapAfterGcMiB.warm} MiB after warm-up → ${r.heapAfterGcMiB.firstBatch} MiB after batch 1 → ${r.heapAfterGcMiB.secondBatch} MiB after batch 2`,
    `host RSS: ${r.rssMiB.after} MiB after the run (peak ${r.rssMiB.peak} MiB); host alive: ${r.hostAlive}`,
    'by family:',
    ...Object.entries(r.byFamily)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([f, h]) => `  ${f.padEnd(34)} ${hist(h)}`),
  ];
}
