/** `engage-bridge poison …` / `status` and the poison monitor against a real Azurite. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { cloudEvent } from '../../../shared/envelope';
import { encodeMessage } from '../../../shared/queue/writer';
import { getStorage } from '../../../shared/storage';
import { JsonBlobStore } from '../../../shared/state/jsonBlobStore';
import { runPoisonMonitor } from '../../../shared/poison/monitor';
import { registerPoisonCommands } from '../../../cli/poison';
import { registerStatusCommand } from '../../../cli/status';
import { drainQueue, queueDepth } from '../../helpers/queues';
import { loggedContext } from '../../unit/consumer/logContext';

let azurite: RunningAzurite;
let service: QueueServiceClient;
let dir: string;

beforeAll(async () => {
  azurite = await startAzurite();
  service = QueueServiceClient.fromConnectionString(azurite.connectionString);
  dir = mkdtempSync(join(tmpdir(), 'poison-cli-'));
  // The CLI reads AzureWebJobsStorage from local.settings.json in its working directory.
  writeFileSync(
    join(dir, 'local.settings.json'),
    JSON.stringify({ IsEncrypted: false, Values: { AzureWebJobsStorage: azurite.connectionString } }),
  );
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await azurite?.stop();
});

async function cli(...args: string[]): Promise<string> {
  let out = '';
  const io = { out: (t: string) => void (out += t), cwd: () => dir, env: () => ({}) };
  const program = new Command('engage-bridge').exitOverride().configureOutput({ writeErr: () => undefined });
  registerPoisonCommands(program, io);
  registerStatusCommand(program, io);
  await program.parseAsync(['node', 'engage-bridge', ...args]);
  return out;
}

async function fillPoison(queue: string, count: number): Promise<void> {
  const poison = service.getQueueClient(`${queue}-poison`);
  await poison.createIfNotExists();
  for (let i = 0; i < count; i++) {
    await poison.sendMessage(
      encodeMessage(
        cloudEvent({ id: `${queue}-${i}:0`, source: '/t', type: 'com.eptura.engage.desk', subject: String(100 + i), data: [] }),
      ),
    );
  }
}

describe('poison CLI (Azurite)', () => {
  test('list, show, dry-run, replay with --max and progress, purge', async () => {
    await fillPoison('engage-desk', 5);
    await fillPoison('engage-meeting', 1);
    await service.getQueueClient('engage-desk').createIfNotExists();

    expect(await cli('poison', 'list')).toMatch(/engage-desk-poison\s+5\nengage-meeting-poison\s+1\n/);
    expect(JSON.parse(await cli('poison', 'list', '--json'))).toEqual([
      { name: 'engage-desk-poison', depth: 5, sourceQueue: 'engage-desk' },
      { name: 'engage-meeting-poison', depth: 1, sourceQueue: 'engage-meeting' },
    ]);

    const shown = await cli('poison', 'show', '--queue', 'engage-desk', '--max', '2');
    expect(shown).toContain('engage-desk-poison: 5 message(s), showing 2');
    expect(shown).toContain('id=engage-desk-0:0 type=com.eptura.engage.desk subject=100');
    expect(shown).toContain('"type": "com.eptura.engage.desk"');

    const dry = await cli('poison', 'replay', '--queue', 'engage-desk-poison', '--dry-run');
    expect(dry).toContain('dry run: would replay 5 message(s) from engage-desk-poison to engage-desk');
    expect(await queueDepth(azurite.connectionString, 'engage-desk-poison')).toBe(5);
    expect(await queueDepth(azurite.connectionString, 'engage-desk')).toBe(0);

    const partial = await cli('poison', 'replay', '--queue', 'engage-desk', '--max', '2');
    expect(partial).toMatch(/^replayed 1\/2 \S+ id=engage-desk-\d:0/m);
    expect(partial).toMatch(/^replayed 2\/2 /m);
    expect(partial).toContain('replayed 2 message(s) from engage-desk-poison to engage-desk; 3 left in engage-desk-poison');

    const rest = await cli('poison', 'replay', '--queue', 'engage-desk');
    expect(rest).toContain('replayed 3 message(s) from engage-desk-poison to engage-desk; 0 left');
    const back = await drainQueue(azurite.connectionString, 'engage-desk');
    // Unchanged bodies, each exactly once.
    expect(back.map((m) => (m.body as { id: string }).id).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `engage-desk-${i}:0`));

    await expect(cli('poison', 'purge', '--queue', 'engage-meeting')).rejects.toThrow(
      'refusing to delete 1 message(s) from engage-meeting-poison without --yes',
    );
    expect(await cli('poison', 'purge', '--queue', 'engage-meeting', '--yes')).toBe('purged 1 message(s) from engage-meeting-poison\n');
    expect(await queueDepth(azurite.connectionString, 'engage-meeting-poison')).toBe(0);

    // A queue that exists neither as a queue nor as a poison queue is a typo: refused (issue 24).
    await expect(cli('poison', 'replay', '--queue', 'never-poisoned')).rejects.toThrow(
      /no queue "never-poisoned" \(nor "never-poisoned-poison"\)/,
    );
    await expect(cli('poison', 'show', '--queue', 'Bad_Queue')).rejects.toThrow(/must be a queue name/);
    await expect(cli('poison', 'replay', '--queue', 'engage-desk', '--max', '0')).rejects.toThrow(/positive integer/);
  });

  test('poison monitor: a metric line per poison queue and a summary', async () => {
    await fillPoison('noojee-call-events', 2);
    const log = loggedContext({}, 'poisonMonitor');
    const storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString });
    const result = await runPoisonMonitor(log.context, storage.queues);
    expect(result.find((q) => q.name === 'noojee-call-events-poison')).toEqual({
      name: 'noojee-call-events-poison',
      sourceQueue: 'noojee-call-events',
      depth: 2,
    });
    expect(log.text()).toContain(
      'information: PoisonQueueDepth {"queue":"noojee-call-events-poison","sourceQueue":"noojee-call-events","depth":2}',
    );
    expect(log.text()).toMatch(/warning: poison monitor: \d+ poison queue\(s\), 2 message\(s\): .*noojee-call-events-poison=2/);
    expect(log.lines.filter((l) => l.text.startsWith('PoisonQueueDepth ')).length).toBe(result.length);
    // Issue 17.4: messages moved with the default 7-day TTL (as the Functions host in Azure does) now never expire, unchanged.
    const kept = (await service.getQueueClient('noojee-call-events-poison').peekMessages({ numberOfMessages: 32 })).peekedMessageItems;
    expect(kept.map((m) => m.expiresOn.getUTCFullYear())).toEqual([9999, 9999]);
    expect(kept.map((m) => (JSON.parse(Buffer.from(m.messageText, 'base64').toString()) as { id: string }).id).sort()).toEqual([
      'noojee-call-events-0:0',
      'noojee-call-events-1:0',
    ]);
    expect(log.text()).toContain('poison monitor: 2 message(s) of noojee-call-events-poison re-sent with TTL -1 (never expire)');
    const again = loggedContext({}, 'poisonMonitor');
    await runPoisonMonitor(again.context, storage.queues);
    expect(again.text()).not.toContain('re-sent with TTL -1');
  });

  test('status: queues, poison, drain backlog and journal, Noojee cursor, last runs', async () => {
    const storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString });
    const state = new JsonBlobStore(storage, 'checkpoints');
    await state.write('notifications/subscription.json', { id: 'sub-123', createdAt: '2026-11-23T08:00:00.000Z' });
    await state.write('notifications/last-run.json', {
      startedAt: '2026-11-23T09:00:00.000Z',
      finishedAt: '2026-11-23T09:00:02.000Z',
      drained: 40,
      backlog: 12,
    });
    await state.write('noojee/cursor.json', { seq: 1234, updatedAt: '2026-11-23T09:01:00.000Z' });
    await state.write('noojee/last-run.json', {
      startedAt: '2026-11-23T09:01:00.000Z',
      finishedAt: '2026-11-23T09:01:30.000Z',
      events: 3,
      error: 'timeout',
    });
    await new JsonBlobStore(storage, 'drain-journal').write('notifications/20261123T090000000Z-abcdef/000001', { entries: [] });
    await service.getQueueClient('notifications-v2').createIfNotExists();
    await service.getQueueClient('notifications-v2').sendMessage(encodeMessage({ x: 1 }));

    const text = await cli('status');
    expect(text).toContain(`Settings: ${join(dir, 'local.settings.json')}`);
    expect(text).toMatch(/notifications-v2\s+1/);
    expect(text).toMatch(/Poison queues.*:\n(.*\n)* {2}noojee-call-events-poison\s+2/);
    expect(text).toContain('subscription: sub-123 (created 2026-11-23T08:00:00.000Z)');
    expect(text).toContain('last run: finished 2026-11-23T09:00:02.000Z, drained 40');
    expect(text).toContain('backlog: 12, 1 journal entry pending replay');
    expect(text).toContain('cursor: seq 1234 (updated 2026-11-23T09:01:00.000Z)');
    expect(text).toContain('last run: finished 2026-11-23T09:01:30.000Z, 3 event(s), error: timeout');
    expect(text).not.toContain('AccountKey');

    const json = JSON.parse(await cli('status', '--json'));
    expect(json).toMatchObject({
      storage: 'connectionString',
      notifications: { backlog: 12, journalPending: 1 },
      noojee: { cursor: { seq: 1234 } },
    });
  });

  test('status without storage settings fails with a clear configuration error', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'poison-cli-empty-'));
    try {
      const program = new Command('engage-bridge').exitOverride();
      registerStatusCommand(program, { out: () => undefined, cwd: () => empty, env: () => ({}) });
      await expect(program.parseAsync(['node', 'engage-bridge', 'status'])).rejects.toThrow(
        /AzureWebJobsStorage: storage is not configured/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
