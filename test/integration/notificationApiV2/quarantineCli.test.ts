/**
 * Issue 23.2: `engage-bridge notifications quarantine list|show|replay|discard` round trip on real
 * Azurite. Pages are quarantined by the drain itself (an unreadable page: results an object, null, a bare
 * array), then listed, shown, replayed with the ids the drain would have given, and discarded.
 */
import { Command } from 'commander';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { registerNotificationCommands } from '../../../cli/notifications';
import { getStorage, type StorageClients } from '../../../shared/storage';
import { QueueWriter } from '../../../shared/queue/writer';
import { JsonBlobStore } from '../../../shared/state/jsonBlobStore';
import { drainNotifications, type DrainApi } from '../../../shared/notificationApiV2/drain';
import { UnreadablePageError } from '../../../shared/notificationApiV2/client';
import { drainQueue } from '../../helpers/queues';

let azurite: RunningAzurite;
let storage: StorageClients;
const JOURNAL = 'qcli-journal';
const QUEUE = 'qcli-notifications';

beforeAll(async () => {
  azurite = await startAzurite();
  storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString, ENGAGE_STORAGE_DEADLINE_MS: '2000' });
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
});

const env = () => ({
  AzureWebJobsStorage: azurite.connectionString,
  JOURNAL_CONTAINER: JOURNAL,
  NOTIFICATIONS_QUEUE: QUEUE,
  NOTIFICATIONS_MESSAGE_FORMAT: 'cloudevents',
  NOTIFICATIONS_API_BASE_URL: 'https://notifications.example',
});

async function cli(...args: string[]): Promise<string> {
  let out = '';
  const program = new Command('engage-bridge').exitOverride();
  registerNotificationCommands(program, { out: (t) => (out += t), cwd: () => '/nonexistent-dir-for-settings', env });
  await program.parseAsync(['node', 'engage-bridge', 'notifications', 'quarantine', ...args]);
  return out;
}

/** One drain run whose only read answers `text` (the client refuses it as not a page). */
async function quarantineByDrain(text: string): Promise<void> {
  const api: DrainApi = {
    source: 'https://notifications.example',
    readNotifications: () => Promise.reject(new UnreadablePageError(text, 'results: expected array')),
    getSubscription: (id: string) => Promise.resolve({ id }),
    createSubscription: () => Promise.resolve({ id: 'sub-q' }),
    deleteSubscription: () => Promise.resolve(),
  };
  const result = await drainNotifications(
    {
      api,
      writer: new QueueWriter(storage, { claimCheckContainer: 'qcli-claims', concurrency: 4 }),
      journal: new JsonBlobStore(storage, JOURNAL),
      checkpoints: new JsonBlobStore(storage, 'qcli-checkpoints'),
    },
    {
      queue: QUEUE,
      format: 'cloudevents',
      pageSize: 10,
      timeBudgetMs: 10_000,
      pagesInFlight: 1,
      retry: { attempts: 0, baseDelayMs: 10 },
      subscription: { fixedId: 'sub-q' },
    },
  );
  expect(result.quarantined + (result.stoppedBy === 'error' ? 1 : 0)).toBeGreaterThan(0);
}

const note = (id: string) => ({ notification_id: id, event_type_id: '301', data: { n: id } });

test('list, show, replay (object / null / bare-array results, same ids), discard (explicit id and --yes)', async () => {
  await quarantineByDrain(JSON.stringify({ results: { a: note('o1'), b: note('o2') } }));
  await quarantineByDrain(JSON.stringify({ results: null }));
  await quarantineByDrain(JSON.stringify([note('b1'), note('b2'), note('b3')]));

  const listed = JSON.parse(await cli('list', '--json')) as { id: string; reason: string; from: string }[];
  expect(listed).toHaveLength(3);
  for (const item of listed) {
    expect(item.id).toMatch(/^quarantine\/notifications\/.+\/000001$/);
    expect(item.reason).toMatch(/results: expected array/);
    expect(item.from).toBe('page');
  }
  expect(await cli('list')).toContain('results: expected array');

  // The drain wrote them in run order; find each by its text.
  const shown = await Promise.all(listed.map(async (i) => JSON.parse(await cli('show', i.id, '--json')) as { name: string; text: string }));
  const byText = (pred: (t: string) => boolean) => shown.find((s) => pred(s.text))!.name;
  const objectId = byText((t) => t.includes('"o1"'));
  const nullId = byText((t) => t.includes('null'));
  const arrayId = byText((t) => t.startsWith('['));
  expect(await cli('show', objectId)).toContain('"notification_id":"o1"');

  // Replay: a dry run changes nothing.
  expect(await cli('replay', objectId, '--dry-run')).toMatch(/would replay .* 2 message/);
  expect(await drainQueue(azurite.connectionString, QUEUE)).toEqual([]);

  expect(await cli('replay', objectId)).toMatch(/replayed .* 2 message/);
  expect(await cli('replay', arrayId)).toMatch(/replayed .* 3 message/);
  expect(await cli('replay', nullId)).toMatch(/replayed .* 0 message/);
  const landed = await drainQueue(azurite.connectionString, QUEUE);
  const ids = landed.map((m) => (m.body as { id: string }).id).sort();
  const entry = (q: string) => q.slice('quarantine/'.length);
  expect(ids).toEqual(
    [`${entry(objectId)}:0`, `${entry(objectId)}:1`, `${entry(arrayId)}:0`, `${entry(arrayId)}:1`, `${entry(arrayId)}:2`].sort(),
  );
  expect(landed.map((m) => (m.body as { data: { notification_id: string } }).data.notification_id).sort()).toEqual([
    'b1',
    'b2',
    'b3',
    'o1',
    'o2',
  ]);
  expect(JSON.parse(await cli('list', '--json'))).toEqual([]);

  // Discard: needs --yes, then removes exactly that item.
  await quarantineByDrain('not json at all');
  const [left] = JSON.parse(await cli('list', '--json')) as { id: string }[];
  await expect(cli('discard', left.id)).rejects.toThrow(/--yes/);
  expect(JSON.parse(await cli('list', '--json'))).toHaveLength(1);
  expect(await cli('discard', left.id, '--yes')).toContain(`discarded ${left.id}`);
  expect(JSON.parse(await cli('list', '--json'))).toEqual([]);
  await expect(cli('discard', left.id, '--yes')).rejects.toThrow(/no quarantined item/);
});
