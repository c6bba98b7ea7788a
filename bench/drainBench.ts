/**
 * (c) The v2 drain of N notifications vs raw enqueue of the same N bodies.
 * - The Notification API sandbox runs in its own process; N realistic v2 events (the sandbox's
 *   `sampleEvent`) are generated here, published to a subscription, and kept.
 * - Drain: `drainNotifications` (shared/notificationApiV2/drain.ts) called directly, with the app's
 *   own client, journal, QueueWriter and the default drain settings (page size, pages in flight,
 *   enqueue concurrency), timed from the call to its return.
 * - Raw: the same N message bodies (the CloudEvents the drain makes, built with the journal's
 *   `messagesFor`) sent with the bare SDK `sendMessage`, at the drain's parallelism
 *   (enqueue concurrency × pages in flight sends in flight at most), once before and once after
 *   the drain; the raw time is their mean.
 * A small warm-up of both paths comes first; both queues are counted before and after.
 */
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { loadConfig } from '../shared/config/settings';
import { encodeMessage, QueueWriter } from '../shared/queue/writer';
import { JsonBlobStore } from '../shared/state/jsonBlobStore';
import { getStorage } from '../shared/storage';
import { NotificationApiClient } from '../shared/notificationApiV2/client';
import { drainNotifications, type DrainOptions } from '../shared/notificationApiV2/drain';
import { messagesFor, type JournalEntry } from '../shared/notificationApiV2/journal';
import { clientOptions, drainOptions } from '../shared/notificationApiV2/settings';
import {
  sampleEvent,
  SANDBOX_CLIENT_ID,
  SANDBOX_CLIENT_SECRET,
  SAMPLE_EVENT_TYPES,
} from '../local/sandbox/notificationApiV2/notificationsSandbox';
import { distFile, startService, type ServiceProcess } from './processes';

export const DRAIN_QUEUE = 'bench-drain';
export const DRAIN_RAW_QUEUE = 'bench-drain-raw';
const PUBLISH_BATCH = 500;

export interface DrainBenchOptions {
  connectionString: string;
  notifications: number;
  log: (line: string) => void;
}

export interface DrainBenchResult {
  notifications: number;
  pageSize: number;
  pagesInFlight: number;
  enqueueConcurrency: number;
  /** Sends in flight at most, in both runs. */
  parallelism: number;
  drainMs: number;
  /** Mean of the raw runs before and after the drain. */
  rawMs: number;
  rawRunsMs: number[];
  /** drain time ÷ raw time. */
  ratio: number;
  drainPerSec: number;
  rawPerSec: number;
  drained: number;
  drainPages: number;
  drainQueued: number;
  /** Messages per raw run (the raw queue received both runs). */
  rawQueued: number;
  /** Every notification landed once in each queue and the journal is empty. */
  verified: boolean;
  journalLeft: number;
  drainStoppedBy: string;
  drainError?: string;
}

export async function benchDrain(options: DrainBenchOptions): Promise<DrainBenchResult> {
  const { log } = options;
  let sandbox: ServiceProcess | undefined;
  try {
    sandbox = await startService(
      distFile('bench/notificationsSandboxMain.js'),
      [],
      { ...process.env },
      /^Notifications sandbox listening on (\S+)/,
    );
    const sandboxUrl = sandbox.ready;
    const eventTypeIds = Object.keys(SAMPLE_EVENT_TYPES);
    const subscriptionId = await control<{ id: string }>(sandboxUrl, 'POST', '/_sandbox/subscriptions', {
      client_id: SANDBOX_CLIENT_ID,
      event_type_ids: eventTypeIds,
    }).then((s) => s.id);

    const env: NodeJS.ProcessEnv = {
      AzureWebJobsStorage: options.connectionString,
      NOTIFICATIONS_API_BASE_URL: sandboxUrl,
      NOTIFICATIONS_CLIENT_ID: SANDBOX_CLIENT_ID,
      NOTIFICATIONS_CLIENT_SECRET: SANDBOX_CLIENT_SECRET,
      NOTIFICATIONS_SUBSCRIPTION_ID: subscriptionId,
      NOTIFICATIONS_QUEUE: DRAIN_QUEUE,
      JOURNAL_CONTAINER: 'bench-drain-journal',
      CHECKPOINT_CONTAINER: 'bench-checkpoints',
    };
    const config = loadConfig(env);
    const drainOpts: DrainOptions = { ...drainOptions(config), timeBudgetMs: 3600_000 };
    const storage = await getStorage('AzureWebJobsStorage', env);
    const api = new NotificationApiClient(clientOptions(config));
    const writer = new QueueWriter(storage, {
      claimCheckContainer: config.CLAIM_CHECK_CONTAINER,
      concurrency: config.NOTIFICATIONS_ENQUEUE_CONCURRENCY,
    });
    const journal = new JsonBlobStore(storage, config.JOURNAL_CONTAINER);
    const checkpoints = new JsonBlobStore(storage, config.CHECKPOINT_CONTAINER);
    const parallelism = config.NOTIFICATIONS_ENQUEUE_CONCURRENCY * config.NOTIFICATIONS_PAGES_IN_FLIGHT;

    const queues = QueueServiceClient.fromConnectionString(options.connectionString);
    const drainQueue = queues.getQueueClient(DRAIN_QUEUE);
    const rawQueue = queues.getQueueClient(DRAIN_RAW_QUEUE);
    await Promise.all([drainQueue.createIfNotExists(), rawQueue.createIfNotExists()]);

    const drain = () => drainNotifications({ api, writer, journal, checkpoints }, drainOpts);
    const publish = async (events: unknown[]) => {
      for (let i = 0; i < events.length; i += PUBLISH_BATCH) {
        await control(sandboxUrl, 'POST', '/_sandbox/publish', { subscriptionId, events: events.slice(i, i + PUBLISH_BATCH) });
      }
    };
    const rawBodies = (events: unknown[]) =>
      messagesFor(
        'notifications/bench-raw/000001',
        {
          version: 1,
          subscriptionId,
          source: api.source,
          readAt: new Date().toISOString(),
          page: null,
          results: events,
        } satisfies JournalEntry,
        drainOpts,
      ).map((m) => encodeMessage(m.body));

    // Warm-up of both paths (connections, token, JIT), then empty queues.
    const warm = generate(Math.min(200, options.notifications), 0);
    await publish(warm);
    await drain();
    await sendRaw(rawQueue, rawBodies(warm), parallelism);
    // Counted as differences: Azurite (in memory) can stall for minutes clearing a large queue.
    const [drainBefore, rawBefore] = await Promise.all([count(drainQueue), count(rawQueue)]);

    // Measured runs.
    const events = generate(options.notifications, warm.length);
    const bodies = rawBodies(events);
    await publish(events);
    log(
      `drain: ${options.notifications} notifications published to sandbox subscription ${subscriptionId}; page size ${drainOpts.pageSize}, pages in flight ${drainOpts.pagesInFlight}, enqueue concurrency ${config.NOTIFICATIONS_ENQUEUE_CONCURRENCY}`,
    );

    // raw, drain, raw: the raw time is the mean of the runs before and after (machine load drifts).
    const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
      const t = process.hrtime.bigint();
      const value = await fn();
      return [value, Number(process.hrtime.bigint() - t) / 1e6];
    };
    const [, rawBeforeMs] = await timed(() => sendRaw(rawQueue, bodies, parallelism));
    log(`raw enqueue of ${bodies.length}: ${rawBeforeMs.toFixed(0)} ms`);
    const [result, drainMs] = await timed(drain);
    log(
      `drain of ${result.drained}: ${drainMs.toFixed(0)} ms (${result.pages} pages, stopped: ${result.stoppedBy}${result.error ? `, ${result.error}` : ''})`,
    );
    const [, rawAfterMs] = await timed(() => sendRaw(rawQueue, bodies, parallelism));
    log(`raw enqueue of ${bodies.length} again: ${rawAfterMs.toFixed(0)} ms`);
    const rawMs = (rawBeforeMs + rawAfterMs) / 2;

    const [drainAfter, rawAfter, journalLeft] = await Promise.all([
      count(drainQueue),
      count(rawQueue),
      journal.list('notifications/').then((l) => l.length),
    ]);
    const drainQueued = drainAfter - drainBefore;
    const rawQueued = (rawAfter - rawBefore) / 2;
    const verified =
      result.drained === options.notifications &&
      drainQueued === options.notifications &&
      rawQueued === options.notifications &&
      journalLeft === 0 &&
      !result.error;
    return {
      notifications: options.notifications,
      pageSize: drainOpts.pageSize,
      pagesInFlight: drainOpts.pagesInFlight,
      enqueueConcurrency: config.NOTIFICATIONS_ENQUEUE_CONCURRENCY,
      parallelism,
      drainMs: Math.round(drainMs),
      rawMs: Math.round(rawMs),
      rawRunsMs: [Math.round(rawBeforeMs), Math.round(rawAfterMs)],
      ratio: drainMs / rawMs,
      drainPerSec: options.notifications / (drainMs / 1000),
      rawPerSec: options.notifications / (rawMs / 1000),
      drained: result.drained,
      drainPages: result.pages,
      drainQueued,
      rawQueued,
      verified,
      journalLeft,
      drainStoppedBy: result.stoppedBy,
      ...(result.error ? { drainError: result.error } : {}),
    };
  } finally {
    await sandbox?.stop();
  }
}

/** N realistic v2 events, cycling through the sample event types. */
function generate(n: number, offset: number): unknown[] {
  const types = Object.keys(SAMPLE_EVENT_TYPES);
  const base = Date.now();
  return Array.from({ length: n }, (_, i) => sampleEvent(types[(offset + i) % types.length], new Date(base + i), offset + i));
}

/** The raw baseline: bare SDK sendMessage of prepared texts, `parallelism` in flight at most. */
async function sendRaw(queue: QueueClient, texts: readonly string[], parallelism: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < texts.length) await queue.sendMessage(texts[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(parallelism, texts.length) }, worker));
}

async function count(queue: QueueClient): Promise<number> {
  return (await queue.getProperties()).approximateMessagesCount ?? 0;
}

async function control<T = unknown>(base: string, method: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox ${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
