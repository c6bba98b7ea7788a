/**
 * Benchmark: v2 drain of N notifications (sandbox → journal → queue) vs. raw SDK enqueue of the same
 * N messages, in the same run against the same Azurite. Both write with the same number of
 * `sendMessage` calls in flight at most (drain: concurrency × pagesInFlight; raw: that many workers).
 * Usable from `bench/` (`benchmarkDrain()`) or directly: `node dist/local/sandbox/notifications/bench.js [count]`.
 */
import { startAzurite } from '../../azurite';
import { getStorage } from '../../../shared/storage';
import { encodeMessage, QueueWriter } from '../../../shared/queue/writer';
import { JsonBlobStore } from '../../../shared/state/jsonBlobStore';
import { cloudEvent } from '../../../shared/envelope';
import { NotificationApiClient } from '../../../shared/notifications/client';
import { drainNotifications, type DrainOptions } from '../../../shared/notifications/drain';
import { sampleEvent, sandboxClientOptions, startNotificationsSandbox, SANDBOX_CLIENT_ID } from './index';

export interface DrainBenchOptions {
  count?: number;
  pageSize?: number;
  concurrency?: number;
  pagesInFlight?: number;
  /** Repetitions of each measurement (alternating raw / drain); the best of each is reported. */
  rounds?: number;
  /** Existing storage connection string; default: a fresh in-memory Azurite. */
  connectionString?: string;
}

export interface DrainBenchResult {
  count: number;
  rawMs: number[];
  drainMs: number[];
  bestRawMs: number;
  bestDrainMs: number;
  /** bestDrainMs / bestRawMs (goal ≤ 1.2). */
  ratio: number;
  settings: { pageSize: number; concurrency: number; pagesInFlight: number };
}

export async function benchmarkDrain(options: DrainBenchOptions = {}): Promise<DrainBenchResult> {
  const count = options.count ?? 10_000;
  const pageSize = options.pageSize ?? 1000;
  const concurrency = options.concurrency ?? 32;
  const pagesInFlight = options.pagesInFlight ?? 2;
  const rounds = options.rounds ?? 2;
  const azurite = options.connectionString ? undefined : await startAzurite();
  const sandbox = await startNotificationsSandbox({ maxPageSize: pageSize });
  try {
    const conn = options.connectionString ?? azurite!.connectionString;
    const storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: conn });
    const api = new NotificationApiClient(sandboxClientOptions(sandbox));
    const deps = {
      api,
      writer: new QueueWriter(storage, { claimCheckContainer: 'bench-claims', concurrency }),
      journal: new JsonBlobStore(storage, 'bench-journal'),
      checkpoints: new JsonBlobStore(storage, 'bench-checkpoints'),
    };
    const drainOptions: DrainOptions = {
      queue: 'bench-drain',
      format: 'cloudevents',
      pageSize,
      timeBudgetMs: 600_000,
      pagesInFlight,
      retry: { attempts: 3, baseDelayMs: 200 },
      subscription: { eventTypeIds: ['101', '102', '301'], clientId: SANDBOX_CLIENT_ID },
    };
    // Warm-up: creates the subscription, containers, queue and the token.
    const subscriptionId = (await drainNotifications(deps, drainOptions)).subscriptionId!;
    const rawQueue = storage.queues.getQueueClient('bench-raw');
    await rawQueue.createIfNotExists();

    const events = Array.from({ length: count }, (_, i) => sampleEvent(['101', '102', '301'][i % 3]!, new Date(), i));
    const rawMs: number[] = [];
    const drainMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Raw: the same envelopes, encoded as the writer does, sent straight with the SDK.
      const bodies = events.map((e, i) => encodeMessage(cloudEvent({ id: `raw-${r}-${i}`, source: sandbox.url, type: e.event_type_id, time: e.timestamp, data: e })));
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency * pagesInFlight }, async () => {
          while (next < bodies.length) await rawQueue.sendMessage(bodies[next++]!);
        }),
      );
      rawMs.push(performance.now() - t0);
      await rawQueue.clearMessages();

      sandbox.publish({ subscriptionId, events });
      const t1 = performance.now();
      const result = await drainNotifications(deps, drainOptions);
      drainMs.push(performance.now() - t1);
      if (result.drained !== count || result.error) throw new Error(`drain incomplete: ${result.drained}/${count} ${result.error ?? ''}`);
      await storage.queues.getQueueClient('bench-drain').clearMessages();
    }
    const bestRawMs = Math.min(...rawMs);
    const bestDrainMs = Math.min(...drainMs);
    return { count, rawMs, drainMs, bestRawMs, bestDrainMs, ratio: bestDrainMs / bestRawMs, settings: { pageSize, concurrency, pagesInFlight } };
  } finally {
    await sandbox.stop();
    await azurite?.stop();
  }
}

if (require.main === module) {
  const count = Number(process.argv[2] ?? 10_000);
  benchmarkDrain({ count })
    .then((r) => {
      const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      process.stdout.write(
        `v2 drain of ${r.count} notifications: ${fmt(r.bestDrainMs)} (runs ${r.drainMs.map(fmt).join(', ')})\n` +
          `raw SDK enqueue of ${r.count}:        ${fmt(r.bestRawMs)} (runs ${r.rawMs.map(fmt).join(', ')})\n` +
          `ratio drain/raw: ${r.ratio.toFixed(2)} (goal ≤ 1.2; page ${r.settings.pageSize}, ${r.settings.concurrency} × ${r.settings.pagesInFlight} sends in flight)\n`,
      );
    })
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    });
}
