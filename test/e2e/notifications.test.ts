/**
 * End to end: the local host as its own process (node dist/local/host/main.js) runs the
 * notificationsDrain timer against the Notification API sandbox and Azurite. The host is killed
 * with SIGKILL after a page was read (consumed upstream) and journaled but before it was enqueued
 * (made deterministic by TEST_HOOK_PAUSE_AFTER_JOURNAL_MS); after a restart nothing is lost.
 * Needs `npx tsc -p tsconfig.json` first (as `npm test` does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { freePort } from '../../local/ports';
import {
  notificationsSandboxSettings,
  sampleEvent,
  startNotificationsSandbox,
  SANDBOX_CLIENT_SECRET,
  type NotificationsSandbox,
} from '../../local/sandbox/notificationApiV2/notificationsSandbox';
import { getStorage } from '../../shared/storage';
import { JsonBlobStore } from '../../shared/state/jsonBlobStore';
import { SUBSCRIPTION_BLOB } from '../../shared/notificationApiV2/defaults';
import { appDir } from '../helpers/app';
import { decodeMessageText, queueDepth, waitFor } from '../helpers/queues';
import { expectMatchesContract } from '../helpers/contract';

const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'local', 'host', 'main.js');
const QUEUE = 'notifications-e2e';

let azurite: RunningAzurite;
let sandbox: NotificationsSandbox;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npx tsc -p tsconfig.json" first`);
  [azurite, sandbox] = await Promise.all([startAzurite(), startNotificationsSandbox()]);
  dir = appDir('notifications-e2e-', { 'local.settings.json': { IsEncrypted: false, Values: {} } });
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all([azurite?.stop(), sandbox?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startHostProcess(
  extra: Record<string, string>,
): Promise<{ child: ChildProcess; output: () => string; exited: Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, '--port', String(port), '--dir', dir, '--functions', 'notificationsDrain'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      AzureWebJobsStorage: azurite.connectionString,
      ...notificationsSandboxSettings(sandbox),
      NOTIFICATIONS_QUEUE: QUEUE,
      NOTIFICATIONS_PAGE_SIZE: '100',
      NOTIFICATIONS_SCHEDULE: '*/1 * * * * *',
      NOTIFICATIONS_RETRY_DELAY_MS: '50',
      ...extra,
    },
  });
  children.push(child);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(() => /Host listening on http:\/\/127\.0\.0\.1:\d+/.test(out) || child.exitCode !== null, 'the host to listen', 30_000, 50);
  if (child.exitCode !== null) throw new Error(`host exited early:\n${out}`);
  return { child, output: () => out, exited };
}

async function peekAll(queue: string): Promise<{ id: string; data: { user: { id: string } } }[]> {
  const q = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(queue);
  const out: { id: string; data: { user: { id: string } } }[] = [];
  for (;;) {
    const res = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
    if (res.receivedMessageItems.length === 0) return out;
    for (const m of res.receivedMessageItems) out.push(decodeMessageText(m.messageText).body as never);
  }
}

it('loses nothing when the host is SIGKILLed after a page was read and journaled but before it was enqueued', async () => {
  const storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString });
  const journal = new JsonBlobStore(storage, 'drain-journal');
  const checkpoints = new JsonBlobStore(storage, 'checkpoints');

  // Run 1: the drain creates the subscription; then every journaled page pauses for a minute.
  const first = await startHostProcess({ TEST_HOOK_PAUSE_AFTER_JOURNAL_MS: '60000' });
  const subscriptionId = await waitFor(
    async () => (await checkpoints.read<{ id: string }>(SUBSCRIPTION_BLOB))?.value.id,
    'the subscription to be created',
    20_000,
  );
  const published = Array.from({ length: 300 }, (_, i) => sampleEvent(i % 2 ? '301' : '101', new Date(), i));
  sandbox.publish({ subscriptionId, events: published });

  const entries = await waitFor(
    async () => {
      const names = await journal.list('notifications/');
      return names.length > 0 ? names : undefined;
    },
    'a journal entry',
    20_000,
    50,
  );
  first.child.kill('SIGKILL');
  await first.exited;
  expect(first.output()).toMatch(/test pause of 60000 ms after journaling/);

  // The page is gone upstream and only in the journal; nothing was enqueued.
  expect(entries).toHaveLength(1);
  expect(sandbox.pending(subscriptionId)).toBe(200);
  expect(await queueDepth(azurite.connectionString, QUEUE)).toBe(0);

  // Run 2: a fresh host replays the journal, then drains the rest.
  const second = await startHostProcess({});
  await waitFor(
    async () =>
      (await queueDepth(azurite.connectionString, QUEUE)) >= 300 &&
      sandbox.pending(subscriptionId) === 0 &&
      (await journal.list('notifications/')).length === 0,
    'all 300 notifications in the queue',
    30_000,
  );
  second.child.kill('SIGTERM');
  await second.exited;
  expect(second.output()).toMatch(/replayed 1 journal entry \(100 messages\)/);
  expect(second.output()).not.toContain(SANDBOX_CLIENT_SECRET);

  const bodies = await peekAll(QUEUE);
  expect(bodies).toHaveLength(300);
  for (const b of bodies) expectMatchesContract('notifications-v2', b);
  expect(new Set(bodies.map((b) => b.id)).size).toBe(300);
  expect(new Set(bodies.map((b) => b.data.user.id))).toEqual(new Set(published.map((e) => e.user.id)));
  // The replayed page kept the ids of the journal entry.
  const replayedIds = bodies.filter((b) => b.id.startsWith(`${entries[0]}:`));
  expect(replayedIds).toHaveLength(100);
}, 90_000);
