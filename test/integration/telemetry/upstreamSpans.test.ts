/**
 * The shipped telemetry chunk (dist/app/telemetry.js, as the bundled app loads it), started in a fresh process
 * with the console exporter: an upstream API call made with fetch (as shared/http does) is a CLIENT span with
 * its method, URL and status; a request with an Azure SDK user agent gets no HTTP span of its own (the SDK's
 * tracing bridge records it).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/app';

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => void res.writeHead(req.url === '/missing' ? 404 : 200).end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

test('fetch to an upstream API is one CLIENT span with method, URL and status; Azure SDK requests are left to the SDK', async () => {
  const probe = `
    const { startOpenTelemetrySdk } = require(${JSON.stringify(join(REPO_ROOT, 'dist', 'app', 'telemetry.js'))});
    const stop = startOpenTelemetrySdk({
      exportTo: { console: { traces: true, metrics: false } },
      defaultServiceName: 'probe',
      metricExportIntervalMs: 60000,
      coreTracing: { useInstrumenter() {} },
    });
    const http = require('node:http');
    (async () => {
      await (await fetch('http://127.0.0.1:${port}/api/V1/listener')).text();
      await (await fetch('http://127.0.0.1:${port}/missing')).text();
      await new Promise((resolve) => http.get({ host: '127.0.0.1', port: ${port}, path: '/sdk', headers: { 'user-agent': 'azsdk-js-storage-queue/12.30.0' } }, (res) => res.resume().on('end', resolve)));
      await stop();
    })();
  `;
  // Asynchronously: the upstream stand-in answers from this process.
  const run = await promisify(execFile)(process.execPath, ['-e', probe], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH },
    timeout: 60_000,
  });
  const spans = (run.stdout.match(/^ {2}traceId: /gm) ?? []).length;
  expect(run.stdout).toMatch(
    /name: 'GET'[\s\S]*?kind: 2[\s\S]*?'url\.full': 'http:\/\/127\.0\.0\.1:\d+\/api\/V1\/listener'[\s\S]*?'http\.response\.status_code': 200/,
  );
  expect(run.stdout).toMatch(/'url\.full': 'http:\/\/127\.0\.0\.1:\d+\/missing'[\s\S]*?'http\.response\.status_code': 404/);
  expect(run.stdout).not.toContain('/sdk');
  expect(spans).toBe(2);
}, 90_000);
