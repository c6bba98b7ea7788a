/**
 * Issue 23.1: a whole page is bounded on its text before it is parsed. A page over
 * NOTIFICATIONS_PAGE_MAX_DEPTH / _MAX_ELEMENTS, or whose `results` is not an array, is quarantined whole
 * (raw text + reason in the journal container) before anything is journaled or enqueued. Real client
 * against a scripted upstream, real Azurite.
 */
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { getStorage, type StorageClients } from '../../../shared/storage';
import { QueueWriter } from '../../../shared/queue/writer';
import { JsonBlobStore } from '../../../shared/state/jsonBlobStore';
import { drainNotifications, type DrainOptions } from '../../../shared/notificationApiV2/drain';
import { NotificationApiClient } from '../../../shared/notificationApiV2/client';
import { ADMINISTRATOR_SCOPE, CONSUMER_SCOPE, DEFAULT_PATHS } from '../../../shared/notificationApiV2/defaults';
import type { JsonLimits } from '../../../shared/engage/jsonLimits';
import { drainQueue } from '../../helpers/queues';
import { startScriptedServer, type ScriptedServer } from '../../unit/http/scriptedServer';

let azurite: RunningAzurite;
let storage: StorageClients;
let upstream: ScriptedServer;
const pages: string[] = [];
let n = 0;

beforeAll(async () => {
  azurite = await startAzurite();
  storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString, ENGAGE_STORAGE_DEADLINE_MS: '1000' });
  upstream = await startScriptedServer((req) => {
    if (req.url.startsWith('/token')) return { status: 200, body: JSON.stringify({ access_token: 'tok-123456789', expires_in: 3600 }) };
    if (req.url.includes('/notifications')) return { status: 200, body: pages.shift() ?? '{"results":[]}' };
    return { status: 200, body: JSON.stringify({ id: 'sub-1', subscription_status: { number_of_remaining_notifications: pages.length } }) };
  });
}, 60_000);
afterAll(async () => {
  await upstream?.stop();
  await azurite?.stop();
});

const note = (id: string) => `{"notification_id":"${id}","event_type_id":"301","data":{"ok":true}}`;

async function drain(pageLimits?: JsonLimits) {
  const k = ++n;
  const api = new NotificationApiClient({
    baseUrl: upstream.url,
    tokenUrl: `${upstream.url}/token`,
    grantType: 'client_credentials',
    consumer: { clientId: 'reader', clientSecret: 'reader-secret', scope: CONSUMER_SCOPE },
    administrator: { clientId: 'admin', clientSecret: 'admin-secret', scope: ADMINISTRATOR_SCOPE },
    paths: {
      subscriptions: DEFAULT_PATHS.subscriptions,
      subscription: DEFAULT_PATHS.subscription,
      notifications: DEFAULT_PATHS.notifications,
    },
    pageSizeParam: 'size',
    timeoutMs: 5000,
    pageLimits,
  });
  const journal = new JsonBlobStore(storage, `pq-journal-${k}`);
  const options: DrainOptions = {
    queue: `pq-${k}`,
    deadLetterQueue: `pq-dead-${k}`,
    format: 'cloudevents',
    pageSize: 100,
    timeBudgetMs: 30_000,
    pagesInFlight: 1,
    retry: { attempts: 1, baseDelayMs: 10 },
    subscription: { fixedId: 'sub-1' },
  };
  const logs: string[] = [];
  const result = await drainNotifications(
    {
      api,
      writer: new QueueWriter(storage, { claimCheckContainer: `pq-claims-${k}`, concurrency: 8 }),
      journal,
      checkpoints: new JsonBlobStore(storage, `pq-checkpoints-${k}`),
      log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
    },
    options,
  );
  const names = await journal.list('');
  const quarantined = await Promise.all(
    names
      .filter((x) => x.startsWith('quarantine/'))
      .map(async (x) => JSON.parse((await journal.readText(x))!.value) as { reason: string; text: string }),
  );
  const landed = (await drainQueue(azurite.connectionString, options.queue)).map(
    (m) => (m.body as { data: { notification_id: string } }).data.notification_id,
  );
  return { result, names, quarantined, landed, logs };
}

test('a page nested deeper than the page limit (100,000 levels) is quarantined whole, raw text and reason, nothing journaled or enqueued', async () => {
  const deep = `{"results":[${note('a')},{"notification_id":"deep","data":${'['.repeat(100_000)}${']'.repeat(100_000)}}]}`;
  pages.push(`{"results":[${note('first')}]}`, deep, `{"results":[${note('after')}]}`);
  const { result, names, quarantined, landed } = await drain();
  expect(landed).toEqual(['first']);
  expect(result.stoppedBy).toBe('error');
  expect(names.filter((x) => !x.startsWith('quarantine/'))).toEqual([]);
  expect(quarantined).toHaveLength(1);
  expect(quarantined[0].reason).toMatch(/nests deeper than 66 levels/);
  expect(quarantined[0].text).toBe(deep);
  // The next run goes on with the following page.
  pages.length = 0;
});

test('a page over the element limit, and a page whose results is an object, are quarantined with their reasons', async () => {
  const many = `{"results":[${Array.from({ length: 30 }, (_, i) => note(`m${i}`)).join(',')}]}`;
  pages.push(many);
  const big = await drain({ maxDepth: 66, maxElements: 50 });
  expect(big.landed).toEqual([]);
  expect(big.quarantined.map((q) => q.reason)).toEqual([expect.stringMatching(/more than 50 elements/)]);
  expect(big.quarantined[0].text).toBe(many);

  const objectResults = `{"results":{"0":${note('o1')}}}`;
  pages.push(objectResults);
  const obj = await drain();
  expect(obj.landed).toEqual([]);
  expect(obj.quarantined.map((q) => q.reason)).toEqual([expect.stringMatching(/results/)]);
  expect(obj.quarantined[0].text).toBe(objectResults);
});

test('within the limits the page is drained as before (the page limits are settings, defaults 66 / 1,000,000)', async () => {
  pages.push(`{"results":[${note('x1')},${note('x2')}]}`);
  const { landed, quarantined } = await drain();
  expect(landed.sort()).toEqual(['x1', 'x2']);
  expect(quarantined).toEqual([]);
});
