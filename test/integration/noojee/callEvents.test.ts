/** The call-event long-poll run against the Noojee sandbox and a real Azurite. */
import { InvocationContext } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { startNoojeeSandbox, type RunningNoojeeSandbox } from '../../../local/sandbox/noojee/noojeeSandbox';
import { resetConfig } from '../../../shared/config/settings';
import { runCallEvents } from '../../../shared/noojee/callEvents';
import { NoojeeClient } from '../../../shared/noojee/client';
import { CURSOR_BLOB, CursorStore, LAST_RUN_BLOB } from '../../../shared/noojee/cursor';
import { pollCallEvents } from '../../../shared/noojee/poller';
import { stopCallEventRuns } from '../../../shared/noojee/runControl';
import { parseSubscribeResponse } from '../../../shared/noojee/subscribe';
import { QueueWriter } from '../../../shared/queue/writer';
import { JsonBlobStore } from '../../../shared/state/jsonBlobStore';
import { getStorage } from '../../../shared/storage';
import { drainQueue, waitFor } from '../../helpers/queues';

const SEED_SAMPLE = `{"Data":{ "410": [{"CallData":{ "canAnswer":false, "callerId":"400", "uniqueCallId":"1412749510.488", "callStartTime":"2014/10/08 17:25:18", "isQueueCall":false, "isClickToDialCall":false, "inbound":true, "status":"Hungup"},"CallID":2,"Code":0}], "400": [{"CallData":{ "canAnswer":false, "callerId":"410", "uniqueCallId":"1412749517.489", "callStartTime":"2014/10/08 17:25:18", "isQueueCall":false, "isClickToDialCall":false, "inbound":false, "status":"Hungup"},"CallID":1,"Code":0}]},"seq":10,"Code":0}`;

let azurite: RunningAzurite;
let sandbox: RunningNoojeeSandbox;
const savedEnv = { ...process.env };
let testNo = 0;
let queue: string;
let container: string;

beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  process.env = savedEnv;
  resetConfig();
  await azurite.stop();
});
beforeEach(async () => {
  testNo++;
  queue = `noojee-events-${testNo}`;
  container = `checkpoints-${testNo}`;
  sandbox = await startNoojeeSandbox();
  process.env = {
    ...savedEnv,
    AzureWebJobsStorage: azurite.connectionString,
    CHECKPOINT_CONTAINER: container,
    NOOJEE_BASE_URL: sandbox.url,
    NOOJEE_API_KEY: sandbox.apiKey,
    NOOJEE_EXTENSIONS: '400,410',
    NOOJEE_EVENTS_QUEUE: queue,
    NOOJEE_RUN_SECONDS: '3',
    NOOJEE_POLL_TIMEOUT_SECONDS: '2',
    NOOJEE_HTTP_TIMEOUT_MARGIN_MS: '1000',
    NOOJEE_RETRY_DELAY_MS: '100',
  };
  resetConfig();
});
afterEach(() => sandbox.stop());

function context(lines: string[] = []): InvocationContext {
  return new InvocationContext({ functionName: 'callEvents', logHandler: (level, ...args) => lines.push(`${level}: ${args.join(' ')}`) });
}

async function checkpoints() {
  const store = new JsonBlobStore(await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString }), container);
  return { store, cursor: new CursorStore(store) };
}

async function messageIds(): Promise<string[]> {
  return (await drainQueue(azurite.connectionString, queue)).map((m) => (m.body as { id: string }).id).sort();
}

it("the seed's two sample calls arrive as messages and each next subscribe carries the response's seq", async () => {
  process.env.NOOJEE_RUN_SECONDS = '5'; // room for slow machines; the run ends on its budget
  resetConfig();
  const firstWait = sandbox.nextSubscribe((s) => s.lastSequenceNumber === 8);
  const run = runCallEvents(context());
  await firstWait; // lastSequenceNumber 0 answered the current state (seq 8), stored, then polled again
  const afterCall1 = sandbox.nextSubscribe((s) => s.lastSequenceNumber === 10);
  expect(sandbox.playSeedSample(1)).toBe(10);
  await afterCall1;
  const afterCall2 = sandbox.nextSubscribe((s) => s.lastSequenceNumber === 11);
  sandbox.playSeedSample(2);
  await afterCall2;
  const result = await run;

  const sent = sandbox.subscribes.map((s) => s.lastSequenceNumber);
  expect(sent.slice(0, 4)).toEqual([0, 8, 10, 11]);
  expect(sent.slice(4).every((seq) => seq === 11)).toBe(true);
  expect(sandbox.subscribes[0]).toMatchObject({ exten: ['400', '410'], timeOut: 2 });
  // The sandbox answered exactly the seed's documented body (410 listed first).
  const answered = sandbox.subscribeAnswers.find((b) => b.includes('1412749510.488'))!;
  expect(JSON.parse(answered)).toEqual(JSON.parse(SEED_SAMPLE));
  expect(answered.indexOf('"410"')).toBeLessThan(answered.indexOf('"400"'));

  const messages = await drainQueue(azurite.connectionString, queue);
  const bodies = messages.map((m) => m.body as Record<string, unknown>).sort((a, b) => String(a.id).localeCompare(String(b.id)));
  expect(bodies.map((b) => [b.id, b.type, b.subject, b.source])).toEqual([
    ['1412749510.488:Hungup:410:6aef02b028cf', 'com.noojee.call.hungup', '410', '/noojee/call-management'],
    ['1412749517.489:Hungup:400:257fb89e7bac', 'com.noojee.call.hungup', '400', '/noojee/call-management'],
    ['1412749525.490:Busy:400:37d6e48c342a', 'com.noojee.call.busy', '400', '/noojee/call-management'],
  ]);
  expect(bodies[0].data).toEqual(JSON.parse(SEED_SAMPLE).Data['410'][0]);
  expect(result).toMatchObject({ events: 3, seq: 11, stoppedBy: 'budget', failures: 0 });

  const { store } = await checkpoints();
  expect((await store.read<{ seq: number }>(CURSOR_BLOB))!.value.seq).toBe(11);
  const lastRun = (await store.read<Record<string, unknown>>(LAST_RUN_BLOB))!.value;
  expect(lastRun).toMatchObject({ events: 3 });
  expect(lastRun).not.toHaveProperty('error');
  expect(Date.parse(String(lastRun.finishedAt))).toBeGreaterThanOrEqual(Date.parse(String(lastRun.startedAt)));
});

it('a connection dropped mid-poll and a 5xx are retried within the run, and no event is missed', async () => {
  const { cursor } = await checkpoints();
  await cursor.save({ seq: 0 }, sandbox.seq);
  sandbox.setFaults({ drop: 1, dropAfterMs: 200, fail: 0 });
  const lines: string[] = [];
  const secondPoll = sandbox.nextSubscribe((s) => s.lastSequenceNumber === 8 && sandbox.subscribes.length >= 2);
  const run = runCallEvents(context(lines));
  await secondPoll;
  // The open long-poll is answered by the call's first events; the subscribe after it gets a 503.
  sandbox.setFaults({ fail: 1, status: 503 });
  const legs = sandbox.scriptCall({ from: '400', to: '410', ringMs: 50, talkMs: 50 });
  await waitFor(() => sandbox.seq >= 14, 'the scripted call to end');
  const result = (await run)!;

  expect(result.failures).toBe(2);
  expect(result.stoppedBy).toBe('budget');
  expect(lines.filter((l) => l.startsWith('warning: noojee: subscribe failed'))).toHaveLength(2);
  const ids = await messageIds();
  // Ids are <call>:<status>:<extension>:<digest of the entry>.
  expect(ids.map((id) => id.replace(/:\d+:[0-9a-f]{12}$/, '')).sort()).toEqual(
    [
      `${legs.caller}:Dialing Out`,
      `${legs.callee}:Ringing`,
      `${legs.caller}:Connected`,
      `${legs.callee}:Connected`,
      `${legs.caller}:Hungup`,
      `${legs.callee}:Hungup`,
    ].sort(),
  );
  expect((await cursor.load()).seq).toBe(sandbox.seq);
});

it('stops cleanly when another instance advances the cursor (lost ETag race)', async () => {
  const lines: string[] = [];
  const polling = sandbox.nextSubscribe((s) => s.lastSequenceNumber === 8);
  const run = runCallEvents(context(lines));
  await polling;
  const { store } = await checkpoints();
  const doc = (await store.read<{ seq: number }>(CURSOR_BLOB))!;
  await store.write(CURSOR_BLOB, { seq: 9, updatedAt: new Date().toISOString() }, { ifMatch: doc.etag }); // the other instance
  sandbox.emit([{ exten: '400', callData: { status: 'Ringing', uniqueCallId: 'race.1' } }]);
  const result = (await run)!;
  expect(result.stoppedBy).toBe('lost-cursor');
  expect(result.events).toBe(1); // enqueued before the cursor write lost: at-least-once
  expect(lines.some((l) => l.includes('the cursor was advanced by another instance'))).toBe(true);
  expect((await store.read<{ seq: number }>(CURSOR_BLOB))!.value.seq).toBe(9);
});

it('a host shutting down ends a running long-poll at once, keeping the cursor', async () => {
  process.env.NOOJEE_RUN_SECONDS = '60';
  process.env.NOOJEE_POLL_TIMEOUT_SECONDS = '30';
  resetConfig();
  const polling = sandbox.nextSubscribe((s) => s.lastSequenceNumber === 8);
  const run = runCallEvents(context());
  await polling;
  expect(stopCallEventRuns()).toBe(1);
  const result = (await run)!;
  expect(result).toMatchObject({ stoppedBy: 'aborted', seq: 8, failures: 0 });
  expect(result.error).toBeUndefined();
  expect((await (await checkpoints()).cursor.load()).seq).toBe(8);
  expect(stopCallEventRuns()).toBe(0);
});

it('when storage fails the cursor stays, and the next run delivers the same events with the same ids', async () => {
  const { cursor } = await checkpoints();
  await cursor.save({ seq: 0 }, 8);
  const deadStorage = await getStorage('AzureWebJobsStorage', {
    AzureWebJobsStorage: azurite.connectionString.replace(`:${azurite.queuePort}/`, ':1/'),
  });
  const client = new NoojeeClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, timeoutMarginMs: 1000 });
  const log = { info: () => undefined, warn: () => undefined };
  sandbox.playSeedSample(1);
  const options = {
    extensions: ['400', '410'],
    queue,
    source: '/noojee/call-management',
    budgetMs: 2000,
    pollTimeoutSeconds: 1,
    retryDelayMs: 100,
  };
  const failed = await pollCallEvents(
    { client, cursor, log, writer: new QueueWriter(deadStorage, { claimCheckContainer: 'claim-checks' }) },
    options,
  );
  expect(failed).toMatchObject({ stoppedBy: 'error', events: 0, seq: 8 });
  expect(failed.error!.name).toBe('StorageUnavailableError');
  expect((await cursor.load()).seq).toBe(8);

  const storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString });
  const ok = await pollCallEvents(
    { client, cursor, log, writer: new QueueWriter(storage, { claimCheckContainer: 'claim-checks' }) },
    { ...options, budgetMs: 1500 },
  );
  expect(ok).toMatchObject({ stoppedBy: 'budget', events: 2, seq: 10 });
  expect(await messageIds()).toEqual(['1412749510.488:Hungup:410:6aef02b028cf', '1412749517.489:Hungup:400:257fb89e7bac']);
});

it('issue 17.6: the same call and status twice in one response keep distinct ids; entries without CallData are dead-lettered', async () => {
  const { cursor } = await checkpoints();
  const ringing = { CallData: { uniqueCallId: 'D.1', status: 'Ringing' }, CallID: 1, Code: 0 };
  const body = { Data: { '400': [ringing, ringing, { CallID: 9, Code: 0 }, 'junk'] }, seq: 21, Code: 0 };
  let served = false;
  // The upstream answer is scripted (the sandbox only emits well-formed entries); storage is the real Azurite.
  const client = {
    subscribe: async (req: { timeOut: number }) => {
      if (served) {
        // Later polls: nothing new, answered after timeOut as Noojee does.
        await new Promise((resolve) => setTimeout(resolve, req.timeOut * 1000));
        return parseSubscribeResponse({ seq: 21, Code: 0 });
      }
      served = true;
      return parseSubscribeResponse(body);
    },
  };
  const storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString });
  const warnings: string[] = [];
  const options = {
    extensions: ['400'],
    queue,
    deadLetterQueue: `${queue}-dl`,
    source: '/noojee/call-management',
    budgetMs: 1500,
    pollTimeoutSeconds: 1,
    retryDelayMs: 100,
  };
  const result = await pollCallEvents(
    {
      client,
      cursor,
      log: { info: () => undefined, warn: (m) => warnings.push(m) },
      writer: new QueueWriter(storage, { claimCheckContainer: 'claim-checks' }),
    },
    options,
  );
  expect(result).toMatchObject({ events: 2, deadLettered: 2, seq: 21 });
  const ids = await messageIds();
  expect(new Set(ids).size).toBe(2);
  expect(ids).toEqual(['D.1:Ringing:400:aa0434c620e6:0', 'D.1:Ringing:400:aa0434c620e6:1']);
  const dead = (await drainQueue(azurite.connectionString, `${queue}-dl`)).map(
    (m) => m.body as { id: string; type: string; data: { received: unknown; reason: string } },
  );
  expect(dead.map((d) => d.type)).toEqual(['com.engage-bridge.deadletter', 'com.engage-bridge.deadletter']);
  expect(dead.map((d) => d.data.received)).toEqual([{ CallID: 9, Code: 0 }, 'junk']);
  expect(dead[0].data.reason).toMatch(/CallData/);
  expect(warnings.some((w) => /2 Data entries without a CallData object kept in/.test(w))).toBe(true);
});

it('a refused subscribe ends the run with the error recorded (no secret in it)', async () => {
  process.env.NOOJEE_API_KEY = 'a-wrong-secret-key';
  resetConfig();
  await expect(runCallEvents(context())).rejects.toThrow(
    'callEvents: run ended on an error: Noojee subscribe failed with Code -1: Invalid apiKey',
  );
  const { store } = await checkpoints();
  const lastRun = (await store.read<Record<string, unknown>>(LAST_RUN_BLOB))!.value;
  expect(lastRun).toMatchObject({ events: 0, error: 'Noojee subscribe failed with Code -1: Invalid apiKey' });
  expect(JSON.stringify(lastRun)).not.toContain('a-wrong-secret-key');
});

it('is a no-op with one log line when Noojee is not configured', async () => {
  delete process.env.NOOJEE_BASE_URL;
  delete process.env.NOOJEE_API_KEY;
  resetConfig();
  const lines: string[] = [];
  expect(await runCallEvents(context(lines))).toBeUndefined();
  expect(lines).toEqual(['information: callEvents: Noojee is not configured (NOOJEE_BASE_URL and NOOJEE_API_KEY not set); nothing to do']);
  expect(sandbox.subscribes).toHaveLength(0);
  const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
  expect(await blobs.getContainerClient(container).exists()).toBe(false);
});

it('issue 26: two overlapping runs never move the cursor backwards (compare-and-advance on a stale ETag)', async () => {
  const { store } = await checkpoints();
  const cursors = new CursorStore(store);
  await cursors.save({ seq: 0 }, 10);
  const a = await cursors.load(); // both runs read seq 10
  const b = await cursors.load();
  const bHeld = await cursors.save(b, 20); // run B got further first
  // Run A, behind, loses: the stored seq stays 20.
  await expect(cursors.save(a, 15)).rejects.toThrow(/advanced by another run to seq 20/);
  expect((await cursors.load()).seq).toBe(20);
  // Run A, ahead (its ETag stale), advances over B's write instead of giving up.
  const aHeld = await cursors.save(a, 30);
  expect((await cursors.load()).seq).toBe(30);
  // B's next save (stale ETag, lower seq) gives way; A still owns the cursor.
  await expect(cursors.save(bHeld, 25)).rejects.toThrow(/another run/);
  expect((await cursors.load()).seq).toBe(30);
  await cursors.save(aHeld, 31);
  expect((await cursors.load()).seq).toBe(31);
});
