/**
 * HTTP hygiene of the local host (its own process, raw sockets): malformed Host and percent-encoding
 * → 400, an early 401/413 closes the connection instead of reading the body on, keep-alive clients
 * are not hurt by it, header and request timeouts → 408, and a connection cap.
 */
import { request, Agent } from 'node:http';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { FUNCTION_KEY, startHostProcess, type HostProcess } from '../../fuzz/hostProcess';
import { rawHttp } from '../../fuzz/rawHttp';

let azurite: RunningAzurite;
let host: HostProcess;
const MAX_CONNECTIONS = 6;

beforeAll(async () => {
  azurite = await startAzurite();
  host = await startHostProcess({
    AzureWebJobsStorage: azurite.connectionString,
    LOCAL_HTTP_HEADERS_TIMEOUT_MS: '2000',
    LOCAL_HTTP_REQUEST_TIMEOUT_MS: '4000',
    LOCAL_HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
  });
}, 60_000);

afterAll(async () => {
  await host?.stop();
  await azurite?.stop();
});

const webhook = `/api/engage/webhook?code=${FUNCTION_KEY}`;
const MiB = 1024 * 1024;

test('connections beyond LOCAL_HTTP_MAX_CONNECTIONS are closed at once; others still work', async () => {
  const { connect } = await import('node:net');
  const open = await Promise.all(
    Array.from(
      { length: MAX_CONNECTIONS },
      () =>
        new Promise<import('node:net').Socket>((resolve) => {
          const s = connect(host.port, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  await new Promise((r) => setTimeout(r, 200)); // the host has accepted them
  const refused = await rawHttp(host.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 1500 });
  expect(refused).toMatchObject({ statuses: [], end: 'closed' });
  for (const s of open) s.destroy();
  // Once the host has seen the closes (however long a busy machine takes), a new connection is served.
  let ok = await rawHttp(host.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  for (const until = Date.now() + 30_000; ok.statuses.length === 0 && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 100));
    ok = await rawHttp(host.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  }
  expect(ok.statuses).toEqual([200]);
});

test('a malformed Host header or request target → 400 (as HTTP.sys answers), never 500', async () => {
  const get = (target: string, hostHeader: string) =>
    rawHttp(host.port, `GET ${target} HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: close\r\n\r\n`);
  for (const bad of ['[', 'a b', 'x@y', 'ex ample.com:80', '[::1', 'host:port']) {
    const r = await get(webhook, bad);
    expect([bad, r.statuses]).toEqual([bad, [400]]);
    expect(r.text).toContain('Bad Request - Invalid Hostname');
  }
  for (const target of [
    `/api/occupancy/%zz?code=${FUNCTION_KEY}`,
    `/api/occupancy/%C0%AF?code=${FUNCTION_KEY}`,
    `/api/engage/%?code=${FUNCTION_KEY}`,
    'http://[::1/api/health',
  ]) {
    const r = await get(target, 'localhost');
    expect([target, r.statuses]).toEqual([target, [400]]);
    expect(r.text).toContain('Bad Request - Invalid URL');
  }
  expect((await get('/api/health', 'localhost:7071')).statuses).toEqual([200]);
  expect((await get('/api/health', '[::1]:7071')).statuses).toEqual([200]);
});

test('an early 401 or 413 closes the connection instead of reading a 100 MiB body on', async () => {
  for (const target of ['/api/engage/webhook', webhook]) {
    const r = await rawHttp(
      host.port,
      `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${100 * MiB}\r\n\r\n`,
      { stream: { total: 100 * MiB } },
    );
    expect(r.statuses).toEqual([target === webhook ? 413 : 401]);
    expect(r.text).toMatch(/\r\nconnection: close\r\n/i);
    expect(r.end).toBe('closed');
    expect(r.written).toBeLessThan(50 * MiB); // only what the socket buffers took before the close
  }
  // Chunked, no length announced: 413 once the limit is passed, then closed.
  const chunked = await rawHttp(host.port, `POST ${webhook} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`, {
    stream: { total: 100 * MiB, chunked: true },
  });
  expect(chunked.statuses).toEqual([413]);
  expect(chunked.written).toBeLessThan(50 * MiB);
});

test('a keep-alive client gets its next request answered after an early 413 or 401', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const call = (path: string, body?: Buffer, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: host.port, path, method: body ? 'POST' : 'GET', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end(body);
    });
  try {
    for (let i = 0; i < 3; i++) {
      expect(await call(webhook, Buffer.alloc(2 * MiB, 0x20), { 'content-type': 'application/json' })).toBe(413);
      expect(await call(`${webhook}&echo=after-413`)).toBe(200);
      expect(await call(webhook, Buffer.alloc(2 * MiB, 0x20), { 'transfer-encoding': 'chunked' })).toBe(413);
      expect(await call(`${webhook}&echo=after-chunked-413`)).toBe(200);
      expect(await call('/api/engage/webhook', Buffer.from('{}'))).toBe(401);
      expect(await call(`${webhook}&echo=after-401`)).toBe(200);
    }
  } finally {
    agent.destroy();
  }
});

test('headers not received within LOCAL_HTTP_HEADERS_TIMEOUT_MS, or a body within LOCAL_HTTP_REQUEST_TIMEOUT_MS → 408 and closed', async () => {
  const [slowHeaders, slowBody] = await Promise.all([
    rawHttp(host.port, 'GET /api/health HTTP/1.1\r\nHost: x\r\n', { timeoutMs: 20_000 }),
    rawHttp(host.port, `POST ${webhook} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"Id":`, {
      timeoutMs: 20_000,
    }),
  ]);
  expect(slowHeaders).toMatchObject({ statuses: [408], end: 'closed' });
  expect(slowBody).toMatchObject({ statuses: [408], end: 'closed' });
  expect(host.output()).not.toMatch(/HTTP pipeline failure/);
});

test('the host is still up and answering', async () => {
  expect(host.exited()).toBe(false);
  expect((await fetch(`${host.url}/api/health`)).status).toBe(200);
});
