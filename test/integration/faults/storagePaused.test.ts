/**
 * Storage paused (Azurite frozen with SIGSTOP: connections open, no answers, as in a storage
 * brownout), with a small ENGAGE_STORAGE_DEADLINE_MS so the suite stays fast:
 * - mid-push: the webhook answers 503 with Retry-After while paused (its storage deadline; no answer
 *   hangs) and, after the resume, the pusher's retries land every envelope id;
 * - mid-drain: the Notification API drain run ends, nothing read upstream is lost, the next run completes;
 * - mid-poll: the Noojee run ends with the cursor unmoved, the next run enqueues the events.
 * Each test prints how many messages were lost (must be 0) and how many arrived twice (allowed:
 * a write cancelled at its deadline can still land when storage wakes up; the ids are the same).
 */
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { startEngageSandbox, type EngageSandbox } from '../../../local/sandbox/engage/engageSandbox';
import {
  sampleEvent,
  sandboxClientOptions,
  startNotificationsSandbox,
  SANDBOX_CLIENT_ID,
  type NotificationsSandbox,
} from '../../../local/sandbox/notificationApiV2/notificationsSandbox';
import { startNoojeeSandbox, type RunningNoojeeSandbox } from '../../../local/sandbox/noojee/noojeeSandbox';
import { encodeBase64Json } from '../../../shared/engage/decoder';
import { NotificationApiClient } from '../../../shared/notificationApiV2/client';
import { drainNotifications, type DrainApi, type DrainDeps, type DrainOptions } from '../../../shared/notificationApiV2/drain';
import { JOURNAL_PREFIX } from '../../../shared/notificationApiV2/defaults';
import { NoojeeClient } from '../../../shared/noojee/client';
import { CursorStore } from '../../../shared/noojee/cursor';
import { pollCallEvents, type PollOptions } from '../../../shared/noojee/poller';
import { QueueWriter } from '../../../shared/queue/writer';
import { JsonBlobStore } from '../../../shared/state/jsonBlobStore';
import { getStorage, type StorageClients } from '../../../shared/storage';
import { drainQueue, waitFor } from '../../helpers/queues';
import { configureWebhook } from '../engage/env';
import { serveWebhook, type ServedWebhook } from '../engage/serveWebhook';

const DEADLINE_MS = 2000;
const PAUSE_MS = 4000;

let azurite: RunningAzurite;
let storage: StorageClients;
const saved = { ...process.env };

beforeAll(async () => {
  azurite = await startAzurite();
  storage = await getStorage('AzureWebJobsStorage', {
    AzureWebJobsStorage: azurite.connectionString,
    ENGAGE_STORAGE_DEADLINE_MS: String(DEADLINE_MS),
  });
});
afterEach(() => azurite.resume()); // never leave storage frozen for the next test, even after a failure
afterAll(async () => {
  await azurite?.stop();
  process.env = saved;
});

/** Freezes storage now and wakes it after `ms`; resolves when it is awake again. */
function pauseStorage(ms = PAUSE_MS): Promise<void> {
  azurite.pause();
  return new Promise((resolve) =>
    setTimeout(() => {
      azurite.resume();
      resolve();
    }, ms),
  );
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Ids expected but absent, and ids present more than once. */
function tally(expected: string[], landed: string[]): { lost: string[]; duplicates: number } {
  const seen = new Set(landed);
  return { lost: expected.filter((id) => !seen.has(id)), duplicates: landed.length - seen.size };
}

describe('storage paused mid-push', () => {
  let sandbox: EngageSandbox;
  let webhook: ServedWebhook;

  beforeAll(async () => {
    configureWebhook(azurite.connectionString, { ENGAGE_DECODER: 'base64-json', ENGAGE_STORAGE_DEADLINE_MS: String(DEADLINE_MS) });
    webhook = await serveWebhook();
    // Retries PAUSE_MS and 3 × PAUSE_MS after a failed attempt: the second or third comes after the resume.
    sandbox = await startEngageSandbox({
      timeScale: 1,
      retryDelaysMs: [PAUSE_MS, 3 * PAUSE_MS],
      listeners: [{ secretkey: 'k', eventTypes: [2], notificationUrl: webhook.url, queueProvider: 3 }],
    });
  });
  afterAll(async () => {
    await sandbox?.stop();
    await webhook?.stop();
  });

  test('503 + Retry-After while paused (the storage deadline), no answer hangs; the retries land every id', async () => {
    await sandbox.push([{ action: 'DESK' }]);
    await sandbox.idle();
    await drainQueue(azurite.connectionString, 'engage-desk');
    webhook.answers.length = 0;

    const N = 30;
    const pushes: Promise<string[]>[] = [];
    let resumed: Promise<void> | undefined;
    let direct: Promise<Response> | undefined;
    for (let i = 0; i < N; i++) {
      if (i === 5) {
        resumed = pauseStorage(); // mid-push: the first pushes are answered before the pause
        // What a sender sees while storage is frozen.
        const booking = [{ Date: '2026-11-24T00:00:00', BookingID: 31, ResourceItemID: 302, Action: 1, UntilFurtherNotice: false }];
        const body = JSON.stringify({
          Id: 'direct-1',
          Attempt: 1,
          Notifications: [{ Action: 'DESK', DynamicParamA: encodeBase64Json(booking) }],
        });
        direct = fetch(webhook.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      }
      pushes.push(sandbox.push([{ action: 'DESK' }]));
      await new Promise((r) => setTimeout(r, 20));
    }
    const refused = (await direct)!;
    await refused.arrayBuffer();
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const envelopeIds = (await Promise.all(pushes)).flat();
    expect(envelopeIds).toHaveLength(N);
    await resumed;
    await sandbox.idle();

    const answers = [...webhook.answers];
    expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
    expect(answers.filter((a) => a.status === 503).length).toBeGreaterThanOrEqual(N / 2);
    // A 503 while frozen can only come from the deadline (without it the write waits for the resume and
    // succeeds). The bound here only rules out a hang: a busy machine may stall the event loop by seconds,
    // so the answer times are printed below, not asserted against the deadline.
    for (const a of answers) expect(a.ms).toBeLessThanOrEqual(5 * DEADLINE_MS);
    const times = answers
      .filter((a) => a.status === 503)
      .map((a) => a.ms)
      .sort((a, b) => a - b);
    for (const id of envelopeIds)
      expect(
        sandbox
          .deliveries()
          .filter((d) => d.envelopeId === id)
          .at(-1)?.status,
      ).toBe(200);

    const landed = (await drainQueue(azurite.connectionString, 'engage-desk')).map((m) => (m.body as { id: string }).id);
    const { lost, duplicates } = tally(
      envelopeIds.map((id) => `${id}:0`),
      landed,
    );
    console.log(
      `storage paused mid-push: ${N} pushes, ${times.length} answered 503 in p50 ${percentile(times, 50).toFixed(0)} / p99 ${percentile(times, 99).toFixed(0)} / max ${times.at(-1)!.toFixed(0)} ms (deadline ${DEADLINE_MS} ms); lost ${lost.length}, duplicates ${duplicates}`,
    );
    expect(lost).toEqual([]);
  });
});

describe('storage paused mid-drain', () => {
  let sandbox: NotificationsSandbox;
  beforeAll(async () => {
    sandbox = await startNotificationsSandbox({ maxPageSize: 1000 });
  });
  afterAll(() => sandbox?.stop());

  test('the run ends, the page read before the pause is kept, the next run completes: nothing lost', async () => {
    const api = new NotificationApiClient(sandboxClientOptions(sandbox, { timeoutMs: 5000 }));
    let pages = 0;
    let resumed: Promise<void> | undefined;
    // The pause comes right after the second page was read (gone upstream), before it is journaled.
    const pausing: DrainApi = Object.assign(Object.create(api) as NotificationApiClient, {
      readNotifications: async (id: string, size: number) => {
        const page = await api.readNotifications(id, size);
        if (++pages === 2) resumed = pauseStorage();
        return page;
      },
    });
    const logs: string[] = [];
    const deps: DrainDeps = {
      api: pausing,
      writer: new QueueWriter(storage, { claimCheckContainer: 'faults-claims', concurrency: 16 }),
      journal: new JsonBlobStore(storage, 'faults-journal'),
      checkpoints: new JsonBlobStore(storage, 'faults-checkpoints'),
      log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
    };
    const options: DrainOptions = {
      queue: 'faults-notifications',
      format: 'cloudevents',
      pageSize: 50,
      timeBudgetMs: 20_000,
      pagesInFlight: 2,
      retry: { attempts: 1, baseDelayMs: 10 },
      subscription: { eventTypeIds: ['101', '301'], clientId: SANDBOX_CLIENT_ID },
    };
    const setup = await drainNotifications({ ...deps, api }, options);
    const events = Array.from({ length: 300 }, (_, i) => sampleEvent(i % 2 ? '301' : '101', new Date(), i));
    sandbox.publish({ subscriptionId: setup.subscriptionId!, events });

    const first = await drainNotifications(deps, options);
    expect(resumed).toBeDefined();
    await resumed;
    expect(first.stoppedBy).toBe('error'); // ended on the storage failure, did not hang
    // The timer's next runs: the first that is not slowed by the woken storage's backlog completes.
    const later: string[] = [];
    for (let run = 0; ; run++) {
      const next = await drainNotifications(deps, options);
      later.push(`${next.stoppedBy}: replayed ${next.replayedMessages}, drained ${next.drained}`);
      if (next.stoppedBy === 'empty' || run === 4) break;
    }
    expect(later.at(-1)).toMatch(/^empty/);
    expect(await deps.journal.list(JOURNAL_PREFIX)).toEqual([]);

    const userId = (e: unknown) => (e as { user: { id: string } }).user.id;
    const landed = (await drainQueue(azurite.connectionString, options.queue)).map((m) => userId((m.body as { data: unknown }).data));
    const { lost, duplicates } = tally(events.map(userId), landed);
    console.log(
      `storage paused mid-drain: ${events.length} notifications, run 1 ${first.stoppedBy} (${first.error}), then ${later.join('; ')}; lost ${lost.length}, duplicates ${duplicates}`,
    );
    expect(lost).toEqual([]);
    expect(logs.some((l) => l.includes('LOST'))).toBe(false);
  });
});

describe('storage paused mid-poll', () => {
  let sandbox: RunningNoojeeSandbox;
  beforeAll(async () => {
    sandbox = await startNoojeeSandbox();
  });
  afterAll(() => sandbox?.stop());

  test('the run ends with the cursor unmoved; the next run enqueues the events: nothing lost', async () => {
    const client = new NoojeeClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, timeoutMarginMs: 1000 });
    let resumed: Promise<void> | undefined;
    const pausing = {
      subscribe: async (...args: Parameters<NoojeeClient['subscribe']>) => {
        const response = await client.subscribe(...args);
        // The pause comes between the answer carrying events and their enqueue.
        if (response.events.length > 0 && !resumed) resumed = pauseStorage();
        return response;
      },
    };
    const cursor = new CursorStore(new JsonBlobStore(storage, 'faults-noojee'));
    const writer = new QueueWriter(storage, { claimCheckContainer: 'faults-claims' });
    const log = { info: () => undefined, warn: () => undefined };
    const options: PollOptions = {
      extensions: ['400', '410'],
      queue: 'faults-call-events',
      source: '/noojee/call-management',
      budgetMs: 6000,
      pollTimeoutSeconds: 1,
      retryDelayMs: 100,
    };

    const waiting = sandbox.nextSubscribe((s) => s.lastSequenceNumber === 8);
    const run = pollCallEvents({ client: pausing, writer, cursor, log }, options);
    await waiting;
    sandbox.playSeedSample(1);
    const first = await run;
    expect(first).toMatchObject({ stoppedBy: 'error', events: 0, seq: 8 });
    await resumed;
    await waitFor(async () => (await cursor.load()).seq === 8, 'the cursor to be readable again', 10_000);

    let second = await pollCallEvents({ client, writer, cursor, log }, { ...options, budgetMs: 1500 });
    for (let run = 0; second.stoppedBy !== 'budget' && run < 4; run++)
      second = await pollCallEvents({ client, writer, cursor, log }, { ...options, budgetMs: 1500 });
    expect(second).toMatchObject({ stoppedBy: 'budget', seq: 10 });
    const landed = (await drainQueue(azurite.connectionString, options.queue)).map((m) => (m.body as { id: string }).id);
    const { lost, duplicates } = tally(['1412749510.488:Hungup:410:6aef02b028cf', '1412749517.489:Hungup:400:257fb89e7bac'], landed);
    console.log(
      `storage paused mid-poll: 2 call events, run 1 ${first.stoppedBy} (${first.error?.message}), run 2 enqueued ${second.events}; lost ${lost.length}, duplicates ${duplicates}`,
    );
    expect(lost).toEqual([]);
  });
});
