/**
 * Storage restarted empty under load (Azurite replaced by a fresh, empty one on the same ports while
 * a sender pushes through the local host): the webhook's queues, the occupancy container, the queues
 * the host listens on (route queues and the Noojee command queue) and a poison queue come back by
 * themselves, and no good message is poisoned for it. Every push acknowledged after the restart
 * reaches the consumer.
 */
import { QueueServiceClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { startHost, type RunningHost } from '../../local/host/startHost';
import { resetConfig } from '../../shared/config/settings';
import { encodeBase64Json } from '../../shared/engage/decoder';
import { encodeMessage } from '../../shared/queue/writer';
import { sampleTriggerSettings } from '../helpers/app';
import { drainQueue, queueDepth, waitFor } from '../helpers/queues';

let azurite: RunningAzurite;
let host: RunningHost;
const lines: string[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  azurite = await startAzurite();
  host = await startHost({
    settings: {
      ...sampleTriggerSettings(),
      AzureWebJobsStorage: azurite.connectionString,
      ENGAGE_DECODER: 'base64-json',
      ENGAGE_STORAGE_DEADLINE_MS: '2000',
    },
    useLocalSettings: false,
    hostJson: {
      extensions: { queues: { maxPollingInterval: '00:00:00.200', visibilityTimeout: '00:00:00', maxDequeueCount: 3, batchSize: 16 } },
    },
    log: (line) => lines.push(line),
  });
});

afterAll(async () => {
  await host?.stop();
  await azurite?.stop();
  process.env = saved;
  resetConfig();
});

/** A sender that retries until it gets 200 (as the Engage pusher does); resolves with the time of the 200. */
async function pushUntilStored(n: number): Promise<number> {
  const payload = [
    {
      BookingId: 5000 + n,
      ResourceItemId: 1000 + n,
      UpdateTime: new Date().toISOString().slice(0, 19),
      DeskProgressionAction: 0,
      ActionSource: 1,
    },
  ];
  const body = JSON.stringify({
    Id: `restart-${n}`,
    Attempt: 1,
    Notifications: [{ Action: 'DESKPROGRESSION', DynamicParamA: encodeBase64Json(payload) }],
  });
  const until = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${host.url}/api/engage/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': host.functionKey },
      body,
    });
    await res.arrayBuffer();
    if (res.status === 200) return Date.now();
    expect(res.status).toBe(503);
    if (Date.now() > until) throw new Error(`push ${n} never stored`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function occupied(n: number): Promise<boolean> {
  const res = await fetch(`${host.url}/api/occupancy/${1000 + n}`, { headers: { 'x-functions-key': host.functionKey } });
  await res.arrayBuffer();
  return res.status === 200;
}

/** A command the callCommands function refuses: retried, then moved to its poison queue. */
async function poisonCommand(text: string): Promise<void> {
  const q = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient('noojee-call-commands');
  await waitFor(() => q.exists(), 'the command queue', 10_000);
  await q.sendMessage(encodeMessage(text));
  await waitFor(
    async () => (await queueDepth(azurite.connectionString, 'noojee-call-commands-poison')) === 1,
    `"${text}" in the poison queue`,
    20_000,
  );
}

test('queues, poison queues and containers come back; nothing acknowledged after the restart is lost or poisoned', async () => {
  await Promise.all(Array.from({ length: 5 }, (_, n) => pushUntilStored(n)));
  await waitFor(async () => (await Promise.all([0, 1, 2, 3, 4].map(occupied))).every(Boolean), 'the first events to be applied');
  await poisonCommand('not a command (before)'); // the host has created the poison queue once

  // Load: a push every 40 ms; the storage is replaced by an empty one while it runs.
  const pushes: { n: number; stored: Promise<number> }[] = [];
  let restartedAt = Infinity;
  for (let n = 5; n < 45; n++) {
    pushes.push({ n, stored: pushUntilStored(n) });
    if (n === 15) {
      const { blobPort, queuePort } = azurite;
      await azurite.stop();
      azurite = await startAzurite({ blobPort, queuePort }); // in memory: empty
      restartedAt = Date.now();
    }
    await new Promise((r) => setTimeout(r, 40));
  }
  const stored = await Promise.all(pushes.map(async (p) => ({ n: p.n, at: await p.stored })));
  const afterRestart = stored.filter((s) => s.at > restartedAt).map((s) => s.n);
  expect(afterRestart.length).toBeGreaterThanOrEqual(25);

  let missing: number[] = afterRestart;
  await waitFor(
    async () => {
      const seen = await Promise.all(missing.map(occupied));
      missing = missing.filter((_, i) => !seen[i]);
      return missing.length === 0;
    },
    'every event acknowledged after the restart to reach the occupancy consumer',
    30_000,
    200,
  ).catch(() => undefined);
  console.log(`storage restarted empty under load: ${afterRestart.length} pushes acknowledged after the restart, lost ${missing.length}`);
  expect(missing).toEqual([]);

  const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
  // The host's listeners created their queues again (the Noojee command queue gets no traffic here).
  await waitFor(() => queues.getQueueClient('noojee-call-commands').exists(), 'the command queue to be created again', 10_000);
  expect(await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('occupancy').exists()).toBe(true);
  // No good message was poisoned: every poison queue of the new storage is empty.
  for await (const q of queues.listQueues()) {
    if (q.name.endsWith('-poison'))
      expect({ queue: q.name, depth: (await queues.getQueueClient(q.name).getProperties()).approximateMessagesCount }).toEqual({
        queue: q.name,
        depth: 0,
      });
  }
  // Recovered for good: the listeners poll without errors from now on.
  const mark = lines.length;
  await new Promise((r) => setTimeout(r, 1500));
  expect(lines.slice(mark).filter((l) => /failed|does not exist/.test(l))).toEqual([]);
  // A message that really fails still reaches its poison queue, which the host creates again.
  await poisonCommand('not a command (after)');
  expect((await drainQueue(azurite.connectionString, 'noojee-call-commands-poison')).map((m) => m.body)).toEqual(['not a command (after)']);
});
