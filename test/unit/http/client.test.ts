/** upstreamCall against a small local server: token renewal, Retry-After, deadline, redaction, retried unreadable answers. */
import { upstreamCall } from '../../../shared/http/client';
import { INVALID_RESPONSE, TIMEOUT, UpstreamError } from '../../../shared/http/error';
import { TokenCache } from '../../../shared/http/tokenCache';
import { gapMs, startScriptedServer, type ScriptedServer } from './scriptedServer';

let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer(() => ({ status: 200, body: '{"ok":true}' }));
});
afterAll(() => server.stop());
beforeEach(() => {
  server.requests.length = 0;
});

function tokens() {
  let n = 0;
  return new TokenCache({ refreshMarginMs: 0, fetch: async () => ({ value: `token-value-${++n}`, expiresInMs: 3600_000 }) });
}

const read = (res: { text: string }) => JSON.parse(res.text) as unknown;

test('sends the bearer token; a 401 renews it once and tries again, a second 401 is the error', async () => {
  const t = tokens();
  server.script({ status: 401 });
  await expect(upstreamCall({ url: server.url, method: 'GET', what: 'GET /', timeoutMs: 10_000, tokens: t, read })).resolves.toEqual({
    ok: true,
  });
  expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer token-value-1', 'Bearer token-value-2']);
  server.script({ status: 401, body: '{"echo":"Bearer token-value-2"}' }, { status: 401, body: '{"echo":"token-value-3"}' });
  const err = await upstreamCall({ url: server.url, method: 'GET', what: 'GET /', timeoutMs: 10_000, tokens: t, read }).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  expect(err).toMatchObject({ status: 401, retryable: false });
  expect(JSON.stringify((err as UpstreamError).body)).not.toMatch(/token-value-3/);
  expect(t.fetched).toBe(3);
});

test('a 503 with Retry-After is retried after that wait (lower bound only), the answer after it is returned', async () => {
  server.script({ status: 503, headers: { 'retry-after': '1' }, body: 'busy' });
  const waits: number[] = [];
  const result = await upstreamCall({
    url: server.url,
    method: 'POST',
    body: 'x',
    what: 'POST /',
    timeoutMs: 10_000,
    retry: { maxRetries: 2, baseDelayMs: 10, onRetry: (_e, _r, ms) => waits.push(ms) },
    read,
  });
  expect(result).toEqual({ ok: true });
  expect(waits).toEqual([1000]);
  expect(server.requests).toHaveLength(2);
  expect(gapMs(server.requests, 0, 1)).toBeGreaterThanOrEqual(950);
});

test('without a retry policy the error carries retryAfterMs for the caller, from seconds or an HTTP-date', async () => {
  server.script(
    { status: 429, headers: { 'retry-after': '7' } },
    { status: 503, headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString() } },
  );
  const seconds = await upstreamCall({ url: server.url, method: 'GET', what: 'GET /', timeoutMs: 10_000, read }).catch((e: unknown) => e);
  expect(seconds).toMatchObject({ status: 429, retryable: true, retryAfterMs: 7000 });
  const date = (await upstreamCall({ url: server.url, method: 'GET', what: 'GET /', timeoutMs: 10_000, read }).catch(
    (e: unknown) => e,
  )) as UpstreamError;
  expect(date.retryAfterMs).toBeGreaterThan(25_000);
  expect(date.retryAfterMs).toBeLessThanOrEqual(30_000);
  expect(server.requests).toHaveLength(2);
});

test('a Retry-After past the deadline is not waited for', async () => {
  server.script({ status: 503, headers: { 'retry-after': '30' } });
  const err = await upstreamCall({
    url: server.url,
    method: 'GET',
    what: 'GET /',
    timeoutMs: 10_000,
    deadline: Date.now() + 5000,
    retry: { maxRetries: 3, baseDelayMs: 10 },
    read,
  }).catch((e: unknown) => e);
  expect(err).toMatchObject({ status: 503, retryAfterMs: 30_000 });
  expect(server.requests).toHaveLength(1);
});

test('no attempt once the deadline has passed; the caller signal ends a call', async () => {
  const late = await upstreamCall({
    url: server.url,
    method: 'GET',
    what: 'GET /',
    timeoutMs: 10_000,
    deadline: Date.now() - 1,
    read,
  }).catch((e: unknown) => e);
  expect(late).toMatchObject({ code: TIMEOUT, status: undefined });
  expect(server.requests).toHaveLength(0);
  const controller = new AbortController();
  controller.abort();
  const aborted = await upstreamCall({
    url: server.url,
    method: 'GET',
    what: 'GET /',
    timeoutMs: 10_000,
    signal: controller.signal,
    read,
  }).catch((e: unknown) => e);
  expect(aborted).toMatchObject({ code: 'ABORTED', retryable: false });
});

test('a network failure is a retryable NETWORK error naming the cause', async () => {
  const closed = await startScriptedServer();
  const url = closed.url;
  await closed.stop();
  const err = await upstreamCall({ url, method: 'GET', what: 'GET /', timeoutMs: 5000, read }).catch((e: unknown) => e);
  expect(err).toMatchObject({ code: 'NETWORK', retryable: true });
  expect((err as Error).message).toMatch(/ECONNREFUSED/);
});

test('a 2xx answer that read() refuses as retryable is asked again', async () => {
  server.script({ status: 200, body: '<html>maintenance</html>' });
  const result = await upstreamCall({
    url: server.url,
    method: 'GET',
    what: 'GET /',
    timeoutMs: 10_000,
    retry: { maxRetries: 2, baseDelayMs: 1 },
    read: (res) => {
      try {
        return JSON.parse(res.text) as unknown;
      } catch {
        throw new UpstreamError('unreadable', res.status, undefined, INVALID_RESPONSE, { retryable: true });
      }
    },
  });
  expect(result).toEqual({ ok: true });
  expect(server.requests).toHaveLength(2);
});
