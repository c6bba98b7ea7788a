/** The drain against Azurite + the Notification API sandbox: zero loss, journal replay, faults, subscription upkeep. */
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import {
  notificationsSandboxSettings,
  sampleEvent,
  sandboxClientOptions,
  startNotificationsSandbox,
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  type NotificationsSandbox,
} from '../../../local/sandbox/notificationApiV2/notificationsSandbox';
import { getStorage, azuriteConnectionString, type StorageClients } from '../../../shared/storage';
import { QueueWriter } from '../../../shared/queue/writer';
import { collectStatus, formatStatus } from '../../../shared/status/collect';
import { JsonBlobStore } from '../../../shared/state/jsonBlobStore';
import { NotificationApiClient } from '../../../shared/notificationApiV2/client';
import { LAST_RUN_BLOB, SUBSCRIPTION_BLOB } from '../../../shared/notificationApiV2/defaults';
import { drainNotifications, type DrainDeps, type DrainOptions } from '../../../shared/notificationApiV2/drain';
import { journalEntryName, newRunId, type JournalEntry } from '../../../shared/notificationApiV2/journal';
import { runNotificationsDrain } from '../../../shared/notificationApiV2/run';
import { resetConfig } from '../../../shared/config/settings';
import { StorageUnavailableError } from '../../../shared/errors';
import { freePort } from '../../../local/ports';
import { decodeMessageText, drainQueue, queueDepth } from '../../helpers/queues';
import { QueueServiceClient } from '@azure/storage-queue';

/** Reads every visible message without deleting it (hidden for 5 min), 32 per call: faster than deleting one by one. */
async function peekAll(queue: string): Promise<unknown[]> {
  const q = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(queue);
  const out: unknown[] = [];
  for (;;) {
    const res = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
    if (res.receivedMessageItems.length === 0) return out;
    for (const m of res.receivedMessageItems) out.push(decodeMessageText(m.messageText).body);
  }
}

let azurite: RunningAzurite;
let sandbox: NotificationsSandbox;
let storage: StorageClients;
let queueNo = 0;

beforeAll(async () => {
  [azurite, sandbox] = await Promise.all([startAzurite(), startNotificationsSandbox({ maxPageSize: 1000 })]);
  storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString });
}, 60_000);
afterAll(async () => {
  await Promise.all([azurite?.stop(), sandbox?.stop()]);
});
afterEach(() => sandbox.clearFaults());

/** Each test: its own queue and containers, so tests do not see each other's state. */
function setup(overrides: Partial<DrainOptions> = {}) {
  const n = ++queueNo;
  const api = new NotificationApiClient(sandboxClientOptions(sandbox, { timeoutMs: 500 }));
  const logs: string[] = [];
  const deps: DrainDeps = {
    api,
    writer: new QueueWriter(storage, { claimCheckContainer: `claims-${n}`, concurrency: 16 }),
    journal: new JsonBlobStore(storage, `journal-${n}`),
    checkpoints: new JsonBlobStore(storage, `checkpoints-${n}`),
    log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
  };
  const options: DrainOptions = {
    queue: `notifications-${n}`,
    format: 'cloudevents',
    pageSize: 100,
    timeBudgetMs: 30_000,
    pagesInFlight: 2,
    retry: { attempts: 1, baseDelayMs: 10 },
    subscription: { eventTypeIds: ['101', '301'], clientId: SANDBOX_CLIENT_ID },
    ...overrides,
  };
  return {
    deps,
    options,
    logs,
    drain: () => drainNotifications(deps, options),
    messages: () => drainQueue(azurite.connectionString, options.queue),
  };
}

function events(count: number) {
  return Array.from({ length: count }, (_, i) => sampleEvent(i % 2 ? '301' : '101', new Date(), i));
}
const userIds = (bodies: unknown[]) =>
  bodies.map((b) => ((b as { data: { user: { id: string } } }).data ?? (b as { user: { id: string } })).user.id);

describe('drainNotifications', () => {
  it('drains 1,000 notifications to the queue with none lost or duplicated', async () => {
    const t = setup();
    const first = await t.drain();
    expect(first).toMatchObject({ subscriptionCreated: true, drained: 0, stoppedBy: 'empty' });
    const id = first.subscriptionId!;
    expect((await t.deps.checkpoints.read<{ id: string }>(SUBSCRIPTION_BLOB))?.value.id).toBe(id);

    const published = events(1000);
    sandbox.publish({ subscriptionId: id, events: published });
    const run = await t.drain();
    expect(run).toMatchObject({ subscriptionId: id, subscriptionCreated: false, drained: 1000, pages: 10, backlog: 0, stoppedBy: 'empty' });
    expect(run.error).toBeUndefined();

    const bodies = (await peekAll(t.options.queue)) as { id: string; type: string; source: string; specversion: string }[];
    expect(bodies).toHaveLength(1000);
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1000);
    expect(new Set(userIds(bodies))).toEqual(new Set(published.map((e) => e.user.id)));
    expect(bodies.every((b) => b.specversion === '1.0' && b.source === sandbox.url && (b.type === '101' || b.type === '301'))).toBe(true);
    expect(bodies[0].id).toMatch(/^notifications\/\d{8}T\d{9}Z-[0-9a-f]{6}\/\d{6}:\d+$/);
    expect(await t.deps.journal.list('notifications/')).toEqual([]);
    expect(sandbox.pending(id)).toBe(0);

    // A further run finds nothing and enqueues nothing.
    expect(await t.drain()).toMatchObject({ drained: 0, replayedMessages: 0 });
    expect(await queueDepth(azurite.connectionString, t.options.queue)).toBe(1000);
  });

  it('replays a journal entry a crashed run left, with the same envelope ids, before reading more', async () => {
    const t = setup();
    const name = journalEntryName(newRunId(), 1);
    const left: JournalEntry = {
      version: 1,
      subscriptionId: 'gone',
      source: sandbox.url,
      readAt: new Date().toISOString(),
      page: 1,
      results: events(5),
    };
    await t.deps.journal.write(name, left);
    const run = await t.drain();
    expect(run).toMatchObject({ replayedEntries: 1, replayedMessages: 5, drained: 0 });
    const bodies = (await t.messages()).map((m) => m.body as { id: string });
    expect(bodies.map((b) => b.id).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `${name}:${i}`).sort());
    expect(await t.deps.journal.list('notifications/')).toEqual([]);
    expect(t.logs.some((l) => /replayed 1 journal entry \(5 messages\)/.test(l))).toBe(true);
  });

  it('backs off on upstream 5xx, stops the run without losing anything, and the next run continues', async () => {
    const t = setup();
    const id = (await t.drain()).subscriptionId!;
    const published = events(250);
    sandbox.publish({ subscriptionId: id, events: published });
    // Page 1 is served; page 2 fails on the first try and on the retry.
    sandbox.injectFault({ endpoint: 'notifications', kind: 'status', status: 503, after: 1, times: 2 });
    const failed = await t.drain();
    expect(failed).toMatchObject({ drained: 100, stoppedBy: 'error' });
    expect(failed.error).toMatch(/HTTP 503/);
    expect(t.logs.some((l) => /retry 1\/1/.test(l))).toBe(true);
    expect(sandbox.pending(id)).toBe(150);

    const next = await t.drain();
    expect(next).toMatchObject({ drained: 150, stoppedBy: 'empty' });
    const bodies = await peekAll(t.options.queue);
    expect(bodies).toHaveLength(250);
    expect(new Set(userIds(bodies))).toEqual(new Set(published.map((e) => e.user.id)));
  });

  it('treats timeouts the same way (retried, then left for the next run)', async () => {
    const t = setup({ retry: { attempts: 1, baseDelayMs: 10 } });
    const id = (await t.drain()).subscriptionId!;
    sandbox.publish({ subscriptionId: id, events: events(30) });
    sandbox.injectFault({ endpoint: 'notifications', kind: 'timeout', times: 2 });
    const failed = await t.drain();
    expect(failed).toMatchObject({ drained: 0, stoppedBy: 'error' });
    expect(failed.error).toMatch(/no answer within 500 ms/);
    expect(sandbox.pending(id)).toBe(30);
    // One timeout only: the retry succeeds within the same run.
    sandbox.injectFault({ endpoint: 'notifications', kind: 'timeout', times: 1 });
    expect(await t.drain()).toMatchObject({ drained: 30, stoppedBy: 'empty' });
    expect(await t.messages()).toHaveLength(30);
  });

  it('recreates the subscription after it was deleted upstream', async () => {
    const t = setup();
    const original = (await t.drain()).subscriptionId!;
    sandbox.deleteSubscription(original);
    const run = await t.drain();
    expect(run.subscriptionCreated).toBe(true);
    expect(run.subscriptionId).not.toBe(original);
    expect((await t.deps.checkpoints.read<{ id: string }>(SUBSCRIPTION_BLOB))?.value.id).toBe(run.subscriptionId);
    expect(t.logs.some((l) => l.includes(`subscription ${original} no longer exists upstream`))).toBe(true);
    sandbox.publish({ subscriptionId: run.subscriptionId!, events: events(3) });
    expect(await t.drain()).toMatchObject({ subscriptionId: run.subscriptionId, subscriptionCreated: false, drained: 3 });
  });

  it('uses a configured subscription id without creating one, and fails clearly when it does not exist', async () => {
    const id = sandbox.createSubscription(SANDBOX_CLIENT_ID, ['101']);
    sandbox.publish({ subscriptionId: id, events: events(4) });
    const t = setup({ subscription: { fixedId: id } });
    expect(await t.drain()).toMatchObject({ subscriptionId: id, subscriptionCreated: false, drained: 4 });
    const missing = await setup({ subscription: { fixedId: 'does-not-exist' } }).drain();
    expect(missing.stoppedBy).toBe('error');
    expect(missing.error).toMatch(/NOTIFICATIONS_SUBSCRIPTION_ID: subscription "does-not-exist" does not exist upstream/);
  });

  it('quarantines a 2xx answer that is not a page instead of dropping it', async () => {
    const t = setup();
    await t.drain();
    sandbox.injectFault({ endpoint: 'notifications', kind: 'invalid' });
    const run = await t.drain();
    expect(run.stoppedBy).toBe('error');
    const kept = await t.deps.journal.list('quarantine/');
    expect(kept).toHaveLength(1);
    expect((await t.deps.journal.read<{ text: string }>(kept[0]))?.value.text).toBe('<html>maintenance</html>');
    // Not replayed as a journal entry.
    expect(await t.drain()).toMatchObject({ replayedEntries: 0, stoppedBy: 'empty' });
  });

  it('stops reading when the time budget is spent; the rest waits upstream', async () => {
    const t = setup({ timeBudgetMs: 1, pageSize: 10 });
    const id = (await t.drain()).subscriptionId!;
    sandbox.publish({ subscriptionId: id, events: events(50) });
    const run = await t.drain();
    expect(run.stoppedBy).toBe('budget');
    expect(run.drained + sandbox.pending(id)).toBe(50);
  });

  it('reads nothing upstream when storage is unreachable', async () => {
    const t = setup();
    const id = (await t.drain()).subscriptionId!;
    sandbox.publish({ subscriptionId: id, events: events(10) });
    const dead = azuriteConnectionString(await freePort(), await freePort());
    const deadStorage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: dead });
    const deps = {
      ...t.deps,
      journal: new JsonBlobStore(deadStorage, 'journal-dead'),
      writer: new QueueWriter(deadStorage, { claimCheckContainer: 'claims' }),
    };
    await expect(drainNotifications(deps, t.options)).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(sandbox.pending(id)).toBe(10);
  }, 30_000);
});

describe('runNotificationsDrain (the timer body)', () => {
  const saved = { ...process.env };
  const context = () => {
    const lines: string[] = [];
    return {
      lines,
      ctx: {
        log: (m: unknown) => lines.push(String(m)),
        warn: (m: unknown) => lines.push(String(m)),
        error: (m: unknown) => lines.push(String(m)),
      },
    };
  };
  /** Points the timer body at Azurite, the sandbox and containers of its own (suffix). */
  const configure = (suffix: string, extra: Record<string, string> = {}) => {
    Object.assign(process.env, {
      AzureWebJobsStorage: azurite.connectionString,
      ...notificationsSandboxSettings(sandbox),
      NOTIFICATIONS_QUEUE: `notifications-${suffix}`,
      CHECKPOINT_CONTAINER: `checkpoints-${suffix}`,
      JOURNAL_CONTAINER: `journal-${suffix}`,
      ...extra,
    });
    resetConfig();
  };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    resetConfig();
  });

  it('is a no-op with one log line when the API is not configured', async () => {
    process.env.AzureWebJobsStorage = azurite.connectionString;
    delete process.env.NOTIFICATIONS_API_BASE_URL;
    resetConfig();
    const { lines, ctx } = context();
    expect(await runNotificationsDrain(ctx)).toBeUndefined();
    expect(lines).toEqual(['notifications drain: off (NOTIFICATIONS_API_BASE_URL is not set)']);
  });

  it('drains with the settings, logs the backlog and records the run', async () => {
    configure('run');
    const { lines, ctx } = context();
    const first = await runNotificationsDrain(ctx);
    sandbox.publish({ subscriptionId: first!.subscriptionId!, events: events(42) });
    await runNotificationsDrain(ctx);
    expect(lines.at(-1)).toMatch(/notifications drain: 42 drained in 1 page\(s\), backlog 0 \(subscription \w+, stopped: empty\)/);
    const lastRun = await new JsonBlobStore(storage, 'checkpoints-run').read<Record<string, unknown>>(LAST_RUN_BLOB);
    expect(lastRun?.value).toMatchObject({
      drained: 42,
      backlog: 0,
      subscriptionId: first!.subscriptionId,
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
    });
    expect(await drainQueue(azurite.connectionString, 'notifications-run')).toHaveLength(42);
    expect(lines.join('\n')).not.toContain(SANDBOX_CLIENT_SECRET);
  });

  it('reports the backlog only from a status call that succeeded at the end of the run; else unknown, with the last known value and its time', async () => {
    configure('backlog', { NOTIFICATIONS_RETRY_ATTEMPTS: '0' });
    const { ctx } = context();
    const first = await runNotificationsDrain(ctx);
    sandbox.publish({ subscriptionId: first!.subscriptionId!, events: events(12) });
    await runNotificationsDrain(ctx);
    const store = new JsonBlobStore(storage, 'checkpoints-backlog');
    const known = (await store.read<{ backlog?: number; finishedAt: string }>(LAST_RUN_BLOB))!.value;
    expect(known.backlog).toBe(0);

    // The run's first status call (ensuring the subscription) goes through; the one at the end fails.
    sandbox.publish({ subscriptionId: first!.subscriptionId!, events: events(5) });
    sandbox.injectFault({ endpoint: 'get', kind: 'status', status: 503, after: 1, times: 1 });
    const third = await runNotificationsDrain(ctx);
    expect(third).toMatchObject({ drained: 5 });
    expect(third!.backlog).toBeUndefined();
    const lastRun = (await store.read<{ backlog?: number; lastKnownBacklog?: { value: number; at: string } }>(LAST_RUN_BLOB))!.value;
    expect(lastRun.backlog).toBeUndefined();
    expect(lastRun.lastKnownBacklog).toEqual({ value: 0, at: known.finishedAt });
    const report = await collectStatus(storage, { checkpoint: 'checkpoints-backlog', journal: 'journal-backlog' });
    expect(report.notifications.backlog).toBeNull();
    expect(formatStatus(report)).toContain(`backlog: unknown (last known 0 at ${known.finishedAt})`);
  });

  it('records upstream failures in the last run without failing the invocation', async () => {
    configure('fail', { NOTIFICATIONS_RETRY_ATTEMPTS: '0' });
    sandbox.injectFault({ endpoint: 'create', kind: 'status', status: 502 });
    const { lines, ctx } = context();
    const result = await runNotificationsDrain(ctx);
    expect(result?.stoppedBy).toBe('error');
    expect(lines.at(-1)).toMatch(/HTTP 502/);
    const lastRun = await new JsonBlobStore(storage, 'checkpoints-fail').read<{ error?: string }>(LAST_RUN_BLOB);
    expect(lastRun?.value.error).toMatch(/HTTP 502/);
  });

  it('fails the invocation with a clear message when required settings are missing', async () => {
    Object.assign(process.env, { AzureWebJobsStorage: azurite.connectionString, NOTIFICATIONS_API_BASE_URL: sandbox.url });
    resetConfig();
    await expect(runNotificationsDrain(context().ctx)).rejects.toThrow(/NOTIFICATIONS_CLIENT_ID: required/);
  });
});
