/**
 * Telemetry as Azure gets it: the bundled app (package.json `main`) under the local host, with
 * APPLICATIONINSIGHTS_CONNECTION_STRING pointing at a stand-in ingestion endpoint that decodes what the Azure
 * Monitor exporters send (`POST /v2.1/track`, gzip'd JSON envelopes; HTTPS, the exporter refuses anything else:
 * a self-signed certificate the host process trusts through NODE_EXTRA_CA_CERTS). One webhook POST consumed by the
 * occupancy consumer must arrive as requests, dependencies (the queue send through the Azure SDK and its HTTP
 * call), the invocation logs and the bridge's metrics, on one operation id from the webhook to the consumer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:https';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { freePort } from '../../local/ports';
import { encodeBase64Json } from '../../shared/engage/decoder';
import { appDir, REPO_ROOT, sampleTriggerSettings } from '../helpers/app';
import { waitFor } from '../helpers/queues';

interface Envelope {
  name: string;
  tags?: Record<string, string>;
  data: {
    baseType: string;
    baseData: Record<string, unknown> & { name?: string; properties?: Record<string, string>; metrics?: { name: string }[] };
  };
}

let azurite: RunningAzurite;
let ingestion: Server;
const received: Envelope[] = [];
let host: ChildProcess | undefined;
let dir: string;

beforeAll(async () => {
  azurite = await startAzurite();
  const tls = join(REPO_ROOT, 'test', 'fixtures', 'tls');
  ingestion = createServer(
    { cert: readFileSync(join(tls, 'localhost.crt')), key: readFileSync(join(tls, 'localhost.key')) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8');
        let items: Envelope[] = [];
        if (req.url?.startsWith('/v2.1/track')) {
          const parsed = JSON.parse(text) as Envelope | Envelope[];
          items = Array.isArray(parsed) ? parsed : [parsed];
          received.push(...items);
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ itemsReceived: items.length, itemsAccepted: items.length, errors: [] }));
      });
    },
  );
  await new Promise<void>((resolve) => ingestion.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  if (host && host.exitCode === null) {
    const exited = new Promise((resolve) => host!.once('exit', resolve));
    host.kill('SIGKILL');
    await exited;
  }
  await new Promise((resolve) => ingestion?.close(resolve));
  await azurite?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('one webhook POST, consumed, reaches Application Insights as requests, dependencies, logs and metrics on one operation', async () => {
  const address = ingestion.address() as { port: number };
  const port = await freePort();
  const functionKey = 'azure-monitor-export-test-key';
  dir = appDir('azure-monitor-export-');
  let out = '';
  host = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'dist', 'local', 'host', 'main.js'),
      '--port',
      String(port),
      '--dir',
      dir,
      '--functions',
      'engageWebhook',
      '--functions',
      'occupancyDesk',
    ],
    {
      env: {
        PATH: process.env.PATH,
        ...sampleTriggerSettings(),
        AzureWebJobsStorage: azurite.connectionString,
        LOCAL_FUNCTION_KEY: functionKey,
        ENGAGE_DECODER: 'base64-json',
        APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=https://127.0.0.1:${address.port}/`,
        NODE_EXTRA_CA_CERTS: join(REPO_ROOT, 'test', 'fixtures', 'tls', 'localhost.crt'),
        OTEL_SERVICE_NAME: 'engage-bridge-export-test',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  host.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  host.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  await waitFor(() => out.includes('occupancyDesk [storageQueue]') || host!.exitCode !== null, 'the host to start', 60_000, 50);
  expect(host.exitCode).toBeNull();

  const res = await fetch(`http://127.0.0.1:${port}/api/engage/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': functionKey },
    body: JSON.stringify({
      Id: 'export-1',
      Attempt: 1,
      Notifications: [
        {
          Action: 'DESK',
          DynamicParamA: encodeBase64Json([
            { Date: '2026-11-24T00:00:00', BookingID: 77, ResourceItemID: 707, Action: 1, UntilFurtherNotice: false },
          ]),
        },
      ],
    }),
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  // The consumer has run once the host logs its end (its request span ends with the invocation; a stop while it still
  // runs would flush telemetry before that span exists).
  await waitFor(() => out.includes("Executed 'Functions.occupancyDesk' (") || undefined, 'the consumer to run', 60_000);

  // A graceful stop runs the app's appTerminate hooks: telemetry is flushed before the process ends.
  const exited = new Promise<number | null>((resolve) => host!.once('exit', resolve));
  host.kill('SIGTERM');
  expect(await exited).toBe(0);

  const ofType = (t: string) => received.filter((e) => e.data.baseType === t);
  const named = (name: string) => received.filter((e) => e.data.baseData.name === name);
  // The webhook's own span, in the invocation's operation (the host's request, continued by the worker).
  const webhook = named('POST engage/webhook')[0];
  expect(webhook).toBeDefined();
  const operation = webhook.tags!['ai.operation.id'];
  const inOperation = received.filter((e) => e.tags?.['ai.operation.id'] === operation);
  const names = (type: string) => inOperation.filter((e) => e.data.baseType === type).map((e) => String(e.data.baseData.name));
  // Two invocations, the webhook's and the consumer's: the message carries the trace from one to the other.
  expect(names('RequestData')).toHaveLength(2);
  expect(names('RemoteDependencyData')).toEqual(
    expect.arrayContaining([
      'send engage-desk', // ours (shared/queue/writer.ts)
      'QueueClient-sendMessage', // the Azure SDK's, through its tracing bridge
      'POST /devstoreaccount1/engage-desk/messages', // outgoing HTTP
      'BlockBlobClient-upload', // the consumer's write of the occupancy state
    ]),
  );
  // One dependency per Storage call: the SDK's HTTP span, not a second one from the HTTP instrumentation.
  expect(names('RemoteDependencyData').filter((n) => n === 'POST /devstoreaccount1/engage-desk/messages')).toHaveLength(1);
  // The invocation logs (context.log) as traces.
  expect(inOperation.filter((e) => e.data.baseType === 'MessageData').map((e) => String(e.data.baseData.message))).toEqual(
    expect.arrayContaining([
      expect.stringContaining('engage webhook: Id=export-1'),
      expect.stringContaining('occupancy: event export-1:0'),
    ]),
  );
  // The bridge's metrics.
  const metricNames = ofType('MetricData').flatMap((m) => (m.data.baseData.metrics ?? []).map((x) => x.name));
  expect(metricNames).toEqual(
    expect.arrayContaining(['engage_bridge.webhook.requests', 'engage_bridge.webhook.notifications', 'engage_bridge.consumer.messages']),
  );
  // The resource: the cloud role is the service name. Nothing of the exporter's own calls is reported.
  expect(webhook.tags!['ai.cloud.role']).toBe('engage-bridge-export-test');
  expect(received.filter((e) => /\/v2\.1\/track|metadata\/instance/.test(String(e.data.baseData.name)))).toEqual([]);
}, 180_000);
