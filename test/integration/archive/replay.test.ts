/**
 * `engage-bridge archive find|replay` against Azurite, run as the CLI process: a replay of a time
 * window re-delivers exactly the messages archived in it, with their original ids and text, to the
 * chosen queue; `--dry-run` writes nothing; a replay killed with SIGKILL and started again delivers
 * every message (duplicates only of ids already sent). Also the writer's grouping of appends.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { ArchiveWriter } from '../../../shared/archive/writer';
import { CHECKPOINT_PREFIX } from '../../../shared/archive/replay';
import { cloudEvent } from '../../../shared/envelope';
import { QueueWriter, writerOptions } from '../../../shared/queue/writer';
import { readMessageBody } from '../../../shared/queue/reader';
import { getStorage, type StorageClients } from '../../../shared/storage';
import { REPO_ROOT } from '../../helpers/app';
import { drainQueue, queueDepth, waitFor } from '../../helpers/queues';

let azurite: RunningAzurite;
let storage: StorageClients;
let cwd: string;
const CONTAINER = 'replay-archive';

beforeAll(async () => {
  azurite = await startAzurite();
  storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString });
  cwd = mkdtempSync(join(tmpdir(), 'archive-cli-'));
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
  rmSync(cwd, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cliProcess(args: string[]) {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'cli', 'index.js'), ...args], {
    cwd,
    env: { PATH: process.env.PATH, AzureWebJobsStorage: azurite.connectionString, ARCHIVE_CONTAINER: CONTAINER },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, out })),
  );
  return { child, exited };
}

const cli = (args: string[]) => cliProcess(args).exited;

/** Archives `n` messages through the bridge's writer (source engage), to queue `archive-source`. */
async function archive(prefix: string, n: number, big = false): Promise<string[]> {
  const writer = new QueueWriter(
    storage,
    writerOptions(
      {
        CLAIM_CHECK_CONTAINER: 'claim-checks',
        QUEUE_MESSAGE_TTL_SECONDS: 3600,
        DEADLETTER_QUEUE: 'engage-deadletter',
        ARCHIVE_MODE: 'strict',
        ARCHIVE_CONTAINER: CONTAINER,
      },
      undefined,
      'engage',
    ),
  );
  const events = Array.from({ length: n }, (_, i) =>
    cloudEvent({
      id: `${prefix}-${i}`,
      source: '/eptura/engage',
      type: i % 2 ? 'com.eptura.engage.desk' : 'com.eptura.engage.visitor',
      subject: String(i),
      data: big && i === 0 ? { blob: 'x'.repeat(100 * 1024) } : { n: i },
    }),
  );
  await writer.sendAll(events.map((e) => ({ queue: 'archive-source', body: e, key: e.id })));
  return events.map((e) => e.id);
}

const idsOf = (messages: { body: unknown }[]) => messages.map((m) => (m.body as { id: string }).id).sort();

test('a window replays exactly its messages with their ids and text; --dry-run writes nothing; find lists them', async () => {
  await archive('before', 5);
  await sleep(20);
  const from = new Date();
  await sleep(20);
  const inWindow = await archive('window', 40, true);
  await sleep(20);
  const to = new Date();
  await sleep(20);
  await archive('after', 5);
  const sourceMessages = await drainQueue(azurite.connectionString, 'archive-source');
  const window = ['--from', from.toISOString(), '--to', to.toISOString()];

  const found = await cli(['archive', 'find', ...window, '--json']);
  expect(found.code).toBe(0);
  const lines = found.out.split('\n').filter((l) => l.startsWith('{'));
  expect(lines.map((l) => (JSON.parse(l) as { id: string }).id).sort()).toEqual([...inWindow].sort());
  expect(found.out).toMatch(/^40 record\(s\) in \d+ blob\(s\) of replay-archive/m);
  const visitors = await cli(['archive', 'find', ...window, '--type', 'com.eptura.engage.visitor', '--subject', '2']);
  expect(visitors.out).toMatch(/com\.eptura\.engage\.visitor {2}2 {2}window-2 {2}→ archive-source/);
  expect(visitors.out).toMatch(/^1 record\(s\)/m);

  const dry = await cli(['archive', 'replay', ...window, '--to-queue', 'replayed-dry', '--dry-run']);
  expect(dry).toMatchObject({ code: 0, out: expect.stringMatching(/^dry run: would replay 40 message\(s\) to replayed-dry/m) });
  expect(await storage.queues.getQueueClient('replayed-dry').exists()).toBe(false);
  const checkpoints: string[] = [];
  for await (const b of storage.blobs.getContainerClient(CONTAINER).listBlobsFlat({ prefix: CHECKPOINT_PREFIX })) checkpoints.push(b.name);
  expect(checkpoints).toEqual([]);

  const replay = await cli(['archive', 'replay', ...window, '--to-queue', 'replayed']);
  expect(replay).toMatchObject({ code: 0, out: expect.stringMatching(/^replayed 40 message\(s\) to replayed /m) });
  const replayed = await drainQueue(azurite.connectionString, 'replayed');
  expect(idsOf(replayed)).toEqual([...inWindow].sort());
  // Each replayed message is the original, text for text (the large one as a claim check of the same body).
  for (const m of replayed) {
    const id = (m.body as { id: string }).id;
    const original = sourceMessages.find((s) => (s.body as { id: string }).id === id)!;
    if (id === 'window-0') {
      const body = await readMessageBody(m.text, storage, 'claim-checks');
      expect(body).toEqual(await readMessageBody(original.text, storage, 'claim-checks'));
      expect((body as { data: { blob: string } }).data.blob).toHaveLength(100 * 1024);
    } else expect(m.text).toBe(original.text);
  }
  // The replay itself was not archived again.
  const again = await cli(['archive', 'find', '--from', from.toISOString(), '--to', 'now', '--json']);
  expect(again.out).toMatch(/^45 record\(s\)/m); // 40 in the window + 5 after it, none of the replayed 40
}, 120_000);

test('a replay killed with SIGKILL and started again delivers every message; duplicates only of ids it had sent', async () => {
  const from = new Date();
  const ids = await archive('kill', 300);
  const to = new Date();
  await drainQueue(azurite.connectionString, 'archive-source');
  const args = ['archive', 'replay', '--from', from.toISOString(), '--to', to.toISOString(), '--to-queue', 'replayed-kill'];

  const first = cliProcess([...args, '--rate', '25']);
  await waitFor(async () => (await queueDepth(azurite.connectionString, 'replayed-kill')) >= 50, 'part of the replay to land', 60_000);
  first.child.kill('SIGKILL');
  const killed = await first.exited;
  expect(killed.signal).toBe('SIGKILL');
  const partial = await queueDepth(azurite.connectionString, 'replayed-kill');
  expect(partial).toBeLessThan(300);

  const resumed = await cli(args);
  expect(resumed.code).toBe(0);
  expect(resumed.out).toMatch(/checkpoint \S+: resumed, \d+ sent in all runs, complete/);
  const delivered = await drainQueue(azurite.connectionString, 'replayed-kill');
  const got = idsOf(delivered);
  expect([...new Set(got)].sort()).toEqual([...ids].sort()); // 0 missing
  expect(got.every((id) => ids.includes(id))).toBe(true); // duplicates only of the same ids
  // The resumed run did not start over: at most one batch (rate 25 → 25 messages) was sent twice.
  expect(got.length - ids.length).toBeLessThanOrEqual(25);
}, 180_000);

test('concurrent appends share blocks: 200 records in far fewer Append Block calls, every line intact', async () => {
  const writer = new ArchiveWriter(storage.blobs, storage.deadlineMs, {
    container: 'archive-groups',
    source: 'noojee',
    instance: 'test-1',
  });
  await Promise.all(Array.from({ length: 200 }, (_, i) => writer.append({ id: `g-${i}`, queue: 'q', message: `{"n":${i}}` })));
  const container = storage.blobs.getContainerClient('archive-groups');
  const names: string[] = [];
  for await (const b of container.listBlobsFlat()) names.push(b.name);
  expect(names).toHaveLength(1);
  expect(names[0]).toMatch(/^noojee\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/test-1\.jsonl$/);
  const blob = container.getAppendBlobClient(names[0]);
  const text = (await blob.downloadToBuffer()).toString('utf8');
  const lines = text.trimEnd().split('\n');
  expect(lines.map((l) => (JSON.parse(l) as { id: string }).id).sort()).toEqual(Array.from({ length: 200 }, (_, i) => `g-${i}`).sort());
  expect((await blob.getProperties()).blobCommittedBlockCount).toBeLessThan(200);
  expect(writer.bytesWritten).toBe(Buffer.byteLength(text));
});

test('a message too large for one 4 MiB append block is archived as its pointer and replayed as one', async () => {
  const from = new Date();
  const writer = new QueueWriter(
    storage,
    writerOptions(
      {
        CLAIM_CHECK_CONTAINER: 'claim-checks',
        QUEUE_MESSAGE_TTL_SECONDS: 3600,
        DEADLETTER_QUEUE: 'engage-deadletter',
        ARCHIVE_MODE: 'strict',
        ARCHIVE_CONTAINER: CONTAINER,
      },
      undefined,
      'notifications',
    ),
  );
  const event = cloudEvent({
    id: 'huge-1',
    source: '/eptura/notifications',
    type: 'com.eptura.notification.huge',
    data: { blob: 'y'.repeat(5 * 1024 * 1024) },
  });
  await writer.send({ queue: 'archive-huge', body: event, key: event.id });
  const to = new Date();
  const [queued] = await drainQueue(azurite.connectionString, 'archive-huge');

  const found = await cli([
    'archive',
    'find',
    '--source',
    'notifications',
    '--from',
    from.toISOString(),
    '--to',
    to.toISOString(),
    '--json',
  ]);
  const record = JSON.parse(found.out.split('\n').find((l) => l.startsWith('{'))!) as Record<string, unknown>;
  expect(record).toMatchObject({ id: 'huge-1', type: 'com.eptura.notification.huge', queue: 'archive-huge', pointer: queued.text });
  expect(record.message).toBeUndefined();
  expect(String(record.claimcheck)).toMatch(/^claim-checks\//);

  const replay = await cli([
    'archive',
    'replay',
    '--source',
    'notifications',
    '--from',
    from.toISOString(),
    '--to',
    to.toISOString(),
    '--to-queue',
    'replayed-huge',
  ]);
  expect(replay.code).toBe(0);
  const [replayed] = await drainQueue(azurite.connectionString, 'replayed-huge');
  expect(replayed.text).toBe(queued.text);
  expect(await readMessageBody(replayed.text, storage, 'claim-checks')).toEqual(event);
}, 120_000);
