/**
 * Scale-out (issue 26): three local host processes (`node dist/local/host/main.js`, build first) on one
 * Azurite behind the round-robin front (local/instances.ts), against the sandbox upstreams.
 *  1. Signed Engage pushes spread over the three instances; the desk consumer runs on all three.
 *  2. A v2 backlog; the instance draining it is SIGKILLed after journaling a page (each page pauses
 *     after journaling, so the kill lands mid-drain); another instance takes the drain's lock once the
 *     lease expires, replays the journal and drains the rest.
 *  3. Noojee events while the callEvents lease is broken by the test: a second instance takes the lock
 *     while the first one's run is still polling (a forced overlap of two pollers).
 * Oracle: every pushed / served / polled event lands (0 lost); duplicates only of the same event; each
 * desk message handled by exactly one consumer invocation; the Noojee cursor never moves backwards; and
 * a timer runs on one instance at a time except in the forced overlap.
 *
 * `SCALE_OUT_NO_LEASE=1` switches the local host's timer lease off (LOCAL_SINGLETON_LOCK=false): only to
 * show that this test then fails.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { startInstances, type RunningInstances } from '../../local/instances';
import { freePort } from '../../local/ports';
import { startSandbox, type RunningSandbox } from '../../local/sandbox/startSandbox';
import { sampleEvent } from '../../local/sandbox/notificationApiV2/events';
import { HOSTS_CONTAINER, listenerLockBlob } from '../../local/host/singleton';
import { appDir, sampleTriggerSettings } from '../helpers/app';
import { decodeMessageText, waitFor } from '../helpers/queues';

const ROOT = join(__dirname, '..', '..');
const HOST_MAIN = join(ROOT, 'dist', 'local', 'host', 'main.js');
const V2_QUEUE = 'scaleout-v2';
const NOOJEE_QUEUE = 'scaleout-noojee';
const HOST_ID = 'scaleout-e2e';
const FUNCTION_KEY = 'scale-out-test-key';
const NO_LEASE = process.env.SCALE_OUT_NO_LEASE === '1';

let azurite: RunningAzurite;
let sandbox: RunningSandbox;
let hosts: RunningInstances | undefined;
let dir: string;

beforeAll(async () => {
  if (!existsSync(HOST_MAIN)) throw new Error(`${HOST_MAIN} is missing: run "npx tsc -p tsconfig.json" first`);
  dir = appDir('scaleout-e2e-', { 'local.settings.json': { IsEncrypted: false, Values: {} } });
}, 60_000);

afterAll(async () => {
  if (process.env.SCALE_OUT_DUMP)
    for (const h of hosts?.instances ?? []) writeFileSync(`${process.env.SCALE_OUT_DUMP}-${h.index}.log`, h.output());
  await hosts?.stop();
  await Promise.all([sandbox?.stop(), azurite?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

interface Run {
  instance: number;
  fn: string;
  start: number;
  end: number;
}

/** Timer runs per instance from the host logs (`Executing` / `Executed` lines); a killed run ends at `killedAt`. */
function timerRuns(instances: RunningInstances, fn: string, killedAt: Map<number, number>): Run[] {
  const runs: Run[] = [];
  for (const inst of instances.instances) {
    const open = new Map<string, number>();
    for (const line of inst.output().split('\n')) {
      const m = /^\[([^\]]+)\] \w+ host: (Executing|Executed) 'Functions\.(\w+)' \(.*Id=([0-9a-f-]+)/.exec(line);
      if (!m || m[3] !== fn) continue;
      const at = Date.parse(m[1]);
      if (m[2] === 'Executing') open.set(m[4], at);
      else if (open.has(m[4])) {
        runs.push({ instance: inst.index, fn, start: open.get(m[4])!, end: at });
        open.delete(m[4]);
      }
    }
    for (const start of open.values()) runs.push({ instance: inst.index, fn, start, end: killedAt.get(inst.index) ?? Date.now() });
  }
  return runs;
}

/** Pairs of runs on different instances that overlap in time. */
function overlaps(runs: Run[]): [Run, Run][] {
  const out: [Run, Run][] = [];
  for (let i = 0; i < runs.length; i++)
    for (let j = i + 1; j < runs.length; j++) {
      const a = runs[i];
      const b = runs[j];
      if (a.instance !== b.instance && a.start < b.end && b.start < a.end) out.push([a, b]);
    }
  return out;
}

async function peekAll(queue: string): Promise<{ id: string; data: Record<string, unknown> }[]> {
  const q = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(queue);
  if (!(await q.exists())) return [];
  const out: { id: string; data: Record<string, unknown> }[] = [];
  for (;;) {
    const res = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 600 });
    if (res.receivedMessageItems.length === 0) return out;
    for (const m of res.receivedMessageItems) out.push(decodeMessageText(m.messageText).body as never);
  }
}

it('three instances on one storage: nothing lost, timers singleton, cursor monotonic, a broken lease overlaps safely', async () => {
  azurite = await startAzurite();
  const frontPort = await freePort();
  sandbox = await startSandbox({
    engage: { webhookUrl: `http://127.0.0.1:${frontPort}/api/engage/webhook?code=${FUNCTION_KEY}`, secret: 'scale-out-secret' },
    notifications: true,
    noojee: true,
    traffic: false,
  });
  hosts = await startInstances({
    count: 3,
    port: frontPort,
    dir,
    hostMain: HOST_MAIN,
    functions: ['engageWebhook', 'occupancyDesk', 'notificationsDrain', 'callEvents'],
    env: {
      PATH: process.env.PATH,
      ...sampleTriggerSettings(),
      AzureWebJobsStorage: azurite.connectionString,
      ...sandbox.settings,
      LOCAL_FUNCTION_KEY: FUNCTION_KEY,
      AzureFunctionsWebHost__hostid: HOST_ID,
      LOCAL_SINGLETON_LOCK_PERIOD_SECONDS: '15',
      ...(NO_LEASE ? { LOCAL_SINGLETON_LOCK: 'false' } : {}),
      NOTIFICATIONS_QUEUE: V2_QUEUE,
      NOTIFICATIONS_SCHEDULE: '*/1 * * * * *',
      NOTIFICATIONS_PAGE_SIZE: '50',
      NOTIFICATIONS_RETRY_DELAY_MS: '50',
      TEST_HOOK_PAUSE_AFTER_JOURNAL_MS: '1500',
      NOOJEE_EVENTS_QUEUE: NOOJEE_QUEUE,
      NOOJEE_EXTENSIONS: '400,410',
      NOOJEE_SCHEDULE: '*/1 * * * * *',
      NOOJEE_RUN_SECONDS: '20',
      NOOJEE_POLL_TIMEOUT_SECONDS: '2',
      NOOJEE_HTTP_TIMEOUT_MARGIN_MS: '1000',
      NOOJEE_RETRY_DELAY_MS: '100',
    },
  });
  const killedAt = new Map<number, number>();
  const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);

  // The Noojee cursor, sampled all along: it must never go down.
  const cursorSamples: number[] = [];
  let sampling = true;
  const cursorBlob = blobs.getContainerClient('checkpoints').getBlockBlobClient('noojee/cursor.json');
  const sampler = (async () => {
    while (sampling) {
      try {
        cursorSamples.push(Number(JSON.parse((await cursorBlob.downloadToBuffer()).toString()).seq));
      } catch {
        // not written yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  // 1. Signed pushes through the front, spread over the three instances; each desk message consumed once.
  const engage = sandbox.engage!;
  const pushed: string[] = [];
  for (let i = 0; i < 30; i++) {
    pushed.push(
      ...(await engage.push([
        {
          action: 'DESK',
          payload: [{ Date: '2026-11-24T00:00:00', BookingID: 1000 + i, ResourceItemID: 5000 + i, Action: 1, UntilFurtherNotice: false }],
        },
      ])),
    );
  }
  await engage.idle();
  expect(
    engage
      .deliveries()
      .filter((d) => pushed.includes(d.envelopeId) && d.status === 200)
      .map((d) => d.envelopeId)
      .sort(),
  ).toEqual([...pushed].sort());
  const handled = () => hosts!.instances.flatMap((h) => [...h.output().matchAll(/occupancy: event (\w+):0 /g)].map((m) => m[1]));
  await waitFor(() => pushed.every((id) => handled().includes(id)), 'every pushed desk event consumed', 60_000, 200);
  expect(handled().sort()).toEqual([...pushed].sort()); // each exactly once
  for (const i of [0, 1, 2]) expect(hosts.front.served.get(i) ?? 0).toBeGreaterThan(0);

  // 2. A v2 backlog; SIGKILL the instance that is draining it after it journaled a page.
  const notifications = sandbox.notifications!;
  const subscriptionId = await waitFor(() => notifications.subscriptionIds()[0], 'the drain to create its subscription', 60_000, 100);
  const published = Array.from({ length: 300 }, (_, i) => sampleEvent(i % 2 ? '301' : '101', new Date(), i));
  notifications.publish({ subscriptionId, events: published });
  const drainer = (
    await waitFor(
      () => hosts!.instances.find((h) => /test pause of 1500 ms after journaling/.test(h.output())),
      'a page journaled',
      60_000,
      20,
    )
  ).index;
  killedAt.set(drainer, Date.now());
  await hosts.kill(drainer, 'SIGKILL');
  const v2Bodies: { id: string; data: Record<string, unknown> }[] = [];
  const v2 = await waitFor(
    async () => {
      const bodies = await peekAll(V2_QUEUE).catch(() => []);
      v2Bodies.push(...bodies);
      const users = new Set(v2Bodies.map((b) => (b.data.user as { id: string }).id));
      return notifications.pending(subscriptionId) === 0 && published.every((e) => users.has(e.user.id)) ? v2Bodies : undefined;
    },
    'all 300 v2 notifications in the queue after the kill',
    90_000,
    500,
  );

  // 3. Noojee: a run holds the callEvents lock; the test breaks its lease; a second instance starts a run
  //    while the first still polls. Events emitted before, during and after the overlap.
  const noojee = sandbox.noojee!;
  const emitted: string[] = [];
  const emit = (n: number) => {
    for (let i = 0; i < n; i++) {
      const id = `scale.${emitted.length}`;
      emitted.push(`${id}:Ringing`);
      noojee.emit([{ exten: i % 2 ? '400' : '410', callData: { status: 'Ringing', uniqueCallId: id } }]);
    }
  };
  const acquiredBy = (fn: string) =>
    hosts!.instances.filter((h) => h.output().includes(`Singleton lock acquired (${listenerLockBlob(HOST_ID, fn)})`)).map((h) => h.index);
  const polling = (h: { output(): string }) => /Functions\.callEvents: noojee: polling extensions/.test(h.output());
  await waitFor(
    () => hosts!.instances.some((h) => !killedAt.has(h.index) && polling(h)) || undefined,
    'a callEvents run polling',
    60_000,
    100,
  );
  emit(10);
  const before = acquiredBy('callEvents').length;
  const breakAt = Date.now();
  if (!NO_LEASE) {
    const lease = blobs
      .getContainerClient(HOSTS_CONTAINER)
      .getBlockBlobClient(listenerLockBlob(HOST_ID, 'callEvents'))
      .getBlobLeaseClient();
    await lease.breakLease(0);
    await waitFor(() => acquiredBy('callEvents').length > before || undefined, 'a second instance to take the broken lock', 60_000, 100);
  }
  emit(10);
  await new Promise((r) => setTimeout(r, 1500));
  emit(10);
  const noojeeBodies: { id: string; data: Record<string, unknown> }[] = [];
  await waitFor(
    async () => {
      noojeeBodies.push(...(await peekAll(NOOJEE_QUEUE)));
      const seen = new Set(
        noojeeBodies.map(
          (b) => `${(b.data.CallData as { uniqueCallId: string }).uniqueCallId}:${(b.data.CallData as { status: string }).status}`,
        ),
      );
      return emitted.every((e) => seen.has(e)) || undefined;
    },
    'every Noojee event in the queue',
    60_000,
    300,
  );
  sampling = false;
  await sampler;

  // Oracle.
  // v2: 0 lost; a duplicate is the same notification with the same id.
  const v2ById = new Map<string, string>();
  for (const b of v2) {
    const user = (b.data.user as { id: string }).id;
    expect(v2ById.get(b.id) ?? user).toBe(user);
    v2ById.set(b.id, user);
  }
  const v2Duplicates = v2.length - new Set(v2.map((b) => (b.data.user as { id: string }).id)).size;
  const v2DuplicateIds = v2.length - v2ById.size;
  expect(v2Duplicates).toBe(v2DuplicateIds); // every duplicate carries the id of its first copy
  // Noojee: 0 lost; every duplicate is the same upstream event (same call, same status).
  const noojeeEvents = noojeeBodies.map(
    (b) => `${(b.data.CallData as { uniqueCallId: string }).uniqueCallId}:${(b.data.CallData as { status: string }).status}`,
  );
  const noojeeById = new Map<string, string>();
  for (const [i, b] of noojeeBodies.entries()) {
    expect(noojeeById.get(b.id) ?? noojeeEvents[i]).toBe(noojeeEvents[i]);
    noojeeById.set(b.id, noojeeEvents[i]);
  }
  // ...and carries the id of its first copy, whatever answer (seq) brought it again (one id per event).
  expect(noojeeById.size).toBe(new Set(noojeeEvents).size);
  // The cursor only grew.
  expect(cursorSamples.length).toBeGreaterThan(0);
  for (let i = 1; i < cursorSamples.length; i++) expect(cursorSamples[i]).toBeGreaterThanOrEqual(cursorSamples[i - 1]);
  // A timer ran on one instance at a time, except in the overlap the test forced (callEvents after the break).
  const drainOverlaps = overlaps(timerRuns(hosts, 'notificationsDrain', killedAt));
  const callEventRuns = timerRuns(hosts, 'callEvents', killedAt);
  process.stdout.write(
    `scale-out: pushes ${pushed.length} served by instances ${JSON.stringify(Object.fromEntries(hosts.front.served))}; ` +
      `v2 published ${published.length}, landed ${new Set(v2.map((b) => (b.data.user as { id: string }).id)).size}, duplicates ${v2Duplicates} (same id); ` +
      `noojee emitted ${emitted.length}, landed ${new Set(noojeeEvents).size}, duplicates ${noojeeBodies.length - new Set(noojeeEvents).size} ` +
      `(of which with a different id ${noojeeById.size - new Set(noojeeEvents).size}); cursor ${cursorSamples[0]} → ${cursorSamples.at(-1)} over ${cursorSamples.length} samples; ` +
      `callEvents lock taken by instances ${JSON.stringify(acquiredBy('callEvents'))}; callEvents overlaps ${overlaps(callEventRuns).length}; drain overlaps ${drainOverlaps.length}\n`,
  );
  expect(drainOverlaps).toEqual([]);
  for (const [a, b] of overlaps(callEventRuns)) expect(Math.max(a.start, b.start)).toBeGreaterThanOrEqual(breakAt - 1000);
}, 240_000);
