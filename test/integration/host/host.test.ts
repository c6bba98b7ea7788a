/**
 * The local host against a real Azurite: queue trigger poison handling, timer non-overlap, HTTP auth,
 * body limit, output bindings, %SETTING% resolution, hooks and health. The test's own functions are
 * registered with the v4 `app` in this file (through the stand-in @azure/functions-core), next to
 * the app's, which the host loads from package.json `main`.
 */
import { app, output, type HttpRequest, type InvocationContext, type StorageQueueHandler } from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { startHost, type RunningHost } from '../../../local/host/startHost';
import { drainQueue, waitFor } from '../../helpers/queues';
import { encodeMessage } from '../../../shared/queue/writer';
import { keepPoisonForever } from '../../../shared/poison/queues';

let azurite: RunningAzurite;
let host: RunningHost;
const calls: { body: unknown; dequeueCount: unknown; id: unknown }[] = [];
let timerActive = 0;
let timerMaxActive = 0;
let timerRuns = 0;
const echoOut = output.storageQueue({ queueName: 'host-test-out', connection: 'AzureWebJobsStorage' });

const failing: StorageQueueHandler = async (message, context) => {
  calls.push({ body: message, dequeueCount: context.triggerMetadata?.dequeueCount, id: context.triggerMetadata?.id });
  throw new Error('always fails');
};

const hookLog: string[] = [];

app.storageQueue('alwaysFails', { queueName: '%FAILING_QUEUE%', connection: 'AzureWebJobsStorage', handler: failing });
app.storageQueue('copies', {
  queueName: 'host-test-in',
  connection: 'AzureWebJobsStorage',
  extraOutputs: [echoOut],
  handler: async (message: unknown, context: InvocationContext) => {
    context.extraOutputs.set(echoOut, { copied: message });
  },
});
app.timer('slowTimer', {
  schedule: '* * * * * *',
  runOnStartup: true,
  handler: async () => {
    timerRuns++;
    timerActive++;
    timerMaxActive = Math.max(timerMaxActive, timerActive);
    await new Promise((r) => setTimeout(r, 2500)); // longer than the one-second schedule
    timerActive--;
  },
});
app.http('secured', {
  route: 'secured/{id:int}',
  methods: ['POST'],
  authLevel: 'function',
  handler: async (req: HttpRequest) => ({ jsonBody: { id: req.params.id, length: (await req.text()).length } }),
});
app.http('cookies', {
  route: 'cookies',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async () => ({
    status: 201,
    body: 'made',
    headers: { 'x-test': 'yes' },
    cookies: [{ name: 'a', value: '1', path: '/', httpOnly: true, sameSite: 'Lax' }],
  }),
});
const bigOut = output.storageQueue({ queueName: 'host-test-big', connection: 'AzureWebJobsStorage' });
app.http('bigOutput', {
  route: 'big-output',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraOutputs: [bigOut],
  handler: async (_req: HttpRequest, context: InvocationContext) => {
    context.extraOutputs.set(bigOut, 'x'.repeat(100 * 1024)); // over the queue's 64 KiB message limit
    return { body: 'sent' };
  },
});
// Holds its first message until the test releases it; records every message it starts.
const slowStarted: string[] = [];
let releaseSlow: () => void = () => undefined;
const slowReleased = new Promise<void>((resolve) => (releaseSlow = resolve));
app.storageQueue('slowThenFast', {
  queueName: 'host-test-slow',
  connection: 'AzureWebJobsStorage',
  handler: async (message: unknown) => {
    const name = (message as { name: string }).name;
    slowStarted.push(name);
    if (name === 'slow') await slowReleased;
  },
});
app.storageQueue('unresolved', { queueName: '%NOT_SET_ANYWHERE%', connection: 'AzureWebJobsStorage', handler: async () => undefined });
app.hook.appStart(() => void hookLog.push('appStart'));
app.hook.preInvocation((ctx) => {
  if (ctx.invocationContext.functionName === 'secured') {
    ctx.hookData.seen = true;
    hookLog.push(`pre ${ctx.inputs.length}`);
  }
});
app.hook.postInvocation((ctx) => {
  if (ctx.invocationContext.functionName === 'secured') hookLog.push(`post ${ctx.error ? 'error' : 'ok'} ${ctx.hookData.seen}`);
});

beforeAll(async () => {
  azurite = await startAzurite();
  host = await startHost({
    functions: ['health', 'alwaysFails', 'copies', 'slowTimer', 'secured', 'cookies', 'bigOutput', 'unresolved', 'slowThenFast'],
    useLocalSettings: false,
    settings: { AzureWebJobsStorage: azurite.connectionString, FAILING_QUEUE: 'host-test-failing' },
    functionKey: 'test-function-key',
    maxBodyBytes: 1024,
    hostJson: { extensions: { queues: { maxPollingInterval: '00:00:00.200', visibilityTimeout: '00:00:00', maxDequeueCount: 5 } } },
    log: () => undefined,
  });
});

afterAll(async () => {
  releaseSlow();
  await host?.stop();
  await azurite?.stop();
});

test('a queue message that fails 5 times ends in <queue>-poison with its original body', async () => {
  const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
  const q = queues.getQueueClient('host-test-failing');
  await q.createIfNotExists();
  const original = encodeMessage({ order: 42, note: 'poison me' });
  await q.sendMessage(original);
  const poison = await waitFor(
    async () => {
      const msgs = await queues
        .getQueueClient('host-test-failing-poison')
        .peekMessages()
        .catch(() => undefined);
      return msgs?.peekedMessageItems.length ? msgs.peekedMessageItems : undefined;
    },
    'the poison message',
    20_000,
  );
  expect(poison).toHaveLength(1);
  expect(poison[0].messageText).toBe(original);
  // The host moves it as Azure's host does: with the queue's default TTL (7 days), not -1.
  const sevenDays = 7 * 24 * 3600 * 1000;
  expect(Math.abs(poison[0].expiresOn.getTime() - poison[0].insertedOn.getTime() - sevenDays)).toBeLessThan(60_000);
  // Keeping poison forever is the app's rule (issue 17.4): its poison monitor re-sends it with TTL -1.
  expect(await keepPoisonForever(queues, 'host-test-failing-poison')).toBe(1);
  const kept = await queues.getQueueClient('host-test-failing-poison').peekMessages();
  expect(kept.peekedMessageItems.map((m) => [m.messageText, m.expiresOn.getUTCFullYear()])).toEqual([[original, 9999]]);
  expect(calls.map((c) => c.dequeueCount)).toEqual([1, 2, 3, 4, 5]);
  expect(calls.every((c) => JSON.stringify(c.body) === JSON.stringify({ order: 42, note: 'poison me' }))).toBe(true);
  expect((await q.getProperties()).approximateMessagesCount).toBe(0);
});

test('a message still running does not hold up the queue: the next batch is fetched below newBatchThreshold', async () => {
  const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
  const q = queues.getQueueClient('host-test-slow');
  await q.createIfNotExists();
  await q.sendMessage(encodeMessage({ name: 'slow' }));
  await waitFor(async () => slowStarted.includes('slow') || undefined, 'the slow message to start', 20_000);
  for (const name of ['fast-1', 'fast-2', 'fast-3']) await q.sendMessage(encodeMessage({ name }));
  // batchSize 16, newBatchThreshold 8 (the default, batchSize / 2): one running message is below it.
  await waitFor(async () => slowStarted.length === 4 || undefined, 'the three later messages to run while the first still runs', 20_000);
  expect(slowStarted.slice(1).sort()).toEqual(['fast-1', 'fast-2', 'fast-3']);
  releaseSlow();
  await waitFor(async () => ((await q.getProperties()).approximateMessagesCount === 0 ? true : undefined), 'the queue to be empty', 20_000);
});

test('queue output bindings are written base64 like the real host', async () => {
  const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
  const q = queues.getQueueClient('host-test-in');
  await q.createIfNotExists();
  await q.sendMessage(encodeMessage('plain text'));
  const out = await waitFor(async () => {
    const got = await drainQueue(azurite.connectionString, 'host-test-out');
    return got.length ? got : undefined;
  }, 'the output message');
  expect(out.map((m) => m.body)).toEqual([{ copied: 'plain text' }]);
});

test('an output binding over the queue limit fails the invocation: the host makes no claim check (issue 21.3)', async () => {
  const res = await fetch(`${host.url}/api/big-output`);
  expect(res.status).toBe(500);
  const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
  const big = await queues
    .getQueueClient('host-test-big')
    .peekMessages()
    .catch(() => undefined);
  expect(big?.peekedMessageItems ?? []).toEqual([]);
  const { BlobServiceClient } = await import('@azure/storage-blob');
  const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
  expect(await blobs.getContainerClient('claim-checks').exists()).toBe(false);
});

test('a timer never overlaps itself', async () => {
  await waitFor(() => timerRuns >= 2, 'two timer runs', 10_000);
  expect(timerMaxActive).toBe(1);
});

test('an HTTP function with authLevel function needs its key', async () => {
  const url = `${host.url}/api/secured/7`;
  expect((await fetch(url, { method: 'POST', body: 'x' })).status).toBe(401);
  expect((await fetch(url, { method: 'POST', body: 'x', headers: { 'x-functions-key': 'wrong' } })).status).toBe(401);
  const ok = await fetch(url, { method: 'POST', body: 'hello', headers: { 'x-functions-key': 'test-function-key' } });
  expect(ok.status).toBe(200);
  expect(await ok.json()).toEqual({ id: '7', length: 5 });
  expect((await fetch(`${url}?code=test-function-key`, { method: 'POST', body: 'x' })).status).toBe(200);
  expect(
    (await fetch(`${host.url}/api/secured/notanint`, { method: 'POST', headers: { 'x-functions-key': 'test-function-key' } })).status,
  ).toBe(404);
  expect((await fetch(url, { method: 'GET', headers: { 'x-functions-key': 'test-function-key' } })).status).toBe(405);
});

test('a body over the limit gets 413', async () => {
  const res = await fetch(`${host.url}/api/secured/1`, {
    method: 'POST',
    body: 'x'.repeat(2048),
    headers: { 'x-functions-key': 'test-function-key' },
  });
  expect(res.status).toBe(413);
});

test('GET /api/health reports the version and reachable storage', async () => {
  const res = await fetch(`${host.url}/api/health`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { version: string; storage: { reachable: boolean } };
  expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(body.storage.reachable).toBe(true);
});

test("a %SETTING% that is not set fails indexing of that function only, with the host's error", () => {
  expect(host.errors).toEqual([
    { name: 'unresolved', error: "Error indexing method 'Functions.unresolved'. '%NOT_SET_ANYWHERE%' does not resolve to a value." },
  ]);
  expect(host.functions.map((f) => f.name).sort()).toEqual([
    'alwaysFails',
    'bigOutput',
    'cookies',
    'copies',
    'health',
    'secured',
    'slowThenFast',
    'slowTimer',
  ]);
  expect(host.functions.find((f) => f.name === 'alwaysFails')?.detail).toBe('queue host-test-failing');
});

test('app hooks run as in the worker: appStart once, pre/post invocation around each call', async () => {
  await fetch(`${host.url}/api/secured/3`, { method: 'POST', body: 'x', headers: { 'x-functions-key': 'test-function-key' } });
  expect(hookLog.filter((l) => l === 'appStart')).toHaveLength(1);
  expect(hookLog.slice(-2)).toEqual(['pre 1', 'post ok true']);
});

test('the HTTP response is the one in the RPC response: status, headers, body, cookies', async () => {
  const res = await fetch(`${host.url}/api/cookies`);
  expect(res.status).toBe(201);
  expect(res.headers.get('x-test')).toBe('yes');
  expect(res.headers.get('content-type')).toBe('text/plain;charset=UTF-8');
  expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/; HttpOnly; SameSite=Lax']);
  expect(await res.text()).toBe('made');
});
