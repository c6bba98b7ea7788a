/**
 * Scale-out (issue 26): the Engage webhook through the round-robin front with 1 and with 3 local host
 * instances (same front, same C and duration, alternating), and the v2 drain rate with the timer lease
 * held by one of three instances (N notifications published as one backlog; rate = N / time until all
 * are in the queue). On 2 cores the aim is "no collapse", not linear scaling.
 */
import { randomBytes } from 'node:crypto';
import { QueueServiceClient } from '@azure/storage-queue';
import { startInstances } from '../local/instances';
import { notificationsSandboxSettings, startNotificationsSandbox } from '../local/sandbox/notificationApiV2/notificationsSandbox';
import { sampleEvent } from '../local/sandbox/notificationApiV2/events';
import { runLoad, type PreparedRequest } from './load';
import { webhookBodies } from './payloads';
import { distFile } from './processes';
import { hostSettings, WEBHOOK_QUEUE } from './webhookBench';

export interface ScaleOutBenchOptions {
  connectionString: string;
  connections: number;
  durationSeconds: number;
  rounds: number;
  notifications: number;
  log: (line: string) => void;
}

export interface ScaleOutBenchResult {
  webhook: {
    instances: number;
    round: number;
    reqPerSec: number;
    p50Ms: number;
    p99Ms: number;
    ok: number;
    non2xx: number;
    errors: number;
    servedBy: Record<string, number>;
  }[];
  /** Total 2xx / total seconds per instance count. */
  reqPerSec: Record<string, number>;
  drain: { instances: number; notifications: number; seconds: number; perSecond: number; lockHolders: number };
}

export async function benchScaleOut(options: ScaleOutBenchOptions): Promise<ScaleOutBenchResult> {
  const { log } = options;
  const secret = randomBytes(24).toString('base64url');
  const functionKey = randomBytes(24).toString('base64url');
  const requests: PreparedRequest[] = webhookBodies(1000, secret).map((b) => ({
    body: b.body,
    headers: { 'content-type': 'application/json; charset=utf-8', 'ms-signature': b.signature, 'x-functions-key': functionKey },
  }));
  const env = { ...process.env, ...hostSettings(options.connectionString, functionKey, secret) };
  const result: ScaleOutBenchResult = {
    webhook: [],
    reqPerSec: {},
    drain: { instances: 3, notifications: 0, seconds: 0, perSecond: 0, lockHolders: 0 },
  };
  const totals = new Map<number, { ok: number; seconds: number }>();
  for (let round = 1; round <= options.rounds; round++) {
    for (const count of round % 2 ? [1, 3] : [3, 1]) {
      const hosts = await startInstances({ count, env, functions: ['engageWebhook', 'health'], hostMain: distFile('local/host/main.js') });
      try {
        await runLoad({ url: hosts.url, path: '/api/engage/webhook', connections: options.connections, durationSeconds: 2, requests }); // warm-up
        hosts.front.served.clear();
        const f = await runLoad({
          url: hosts.url,
          path: '/api/engage/webhook',
          connections: options.connections,
          durationSeconds: options.durationSeconds,
          requests,
        });
        const servedBy = Object.fromEntries([...hosts.front.served].map(([k, v]) => [String(k), v]));
        result.webhook.push({
          instances: count,
          round,
          reqPerSec: f.reqPerSec,
          p50Ms: f.p50Ms,
          p99Ms: f.p99Ms,
          ok: f.ok,
          non2xx: f.non2xx,
          errors: f.errors,
          servedBy,
        });
        const t = totals.get(count) ?? { ok: 0, seconds: 0 };
        totals.set(count, { ok: t.ok + f.ok, seconds: t.seconds + f.durationSeconds });
        log(
          `scale-out webhook, ${count} instance(s), round ${round}: ${f.reqPerSec.toFixed(0)} req/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, 2xx ${f.ok}, non-2xx ${f.non2xx}, errors ${f.errors}, served by ${JSON.stringify(servedBy)}`,
        );
      } finally {
        await hosts.stop();
      }
    }
  }
  for (const [count, t] of totals) result.reqPerSec[String(count)] = Math.round(t.ok / t.seconds);
  await QueueServiceClient.fromConnectionString(options.connectionString)
    .getQueueClient(WEBHOOK_QUEUE)
    .clearMessages()
    .catch(() => undefined);

  // The v2 drain, three instances, the lease held by one of them.
  const sandbox = await startNotificationsSandbox();
  const queue = 'bench-scaleout-drain';
  const hosts = await startInstances({
    count: 3,
    functions: ['notificationsDrain'],
    hostMain: distFile('local/host/main.js'),
    env: {
      ...process.env,
      AzureWebJobsStorage: options.connectionString,
      ...notificationsSandboxSettings(sandbox),
      NOTIFICATIONS_QUEUE: queue,
      NOTIFICATIONS_SCHEDULE: '*/1 * * * * *',
      CHECKPOINT_CONTAINER: 'bench-scaleout-checkpoints',
      AzureFunctionsWebHost__hostid: `bench-scaleout-${Date.now()}`,
    },
  });
  try {
    const q = QueueServiceClient.fromConnectionString(options.connectionString).getQueueClient(queue);
    const subscriptionId = await until(() => sandbox.subscriptionIds()[0], 60_000);
    const n = options.notifications;
    const started = Date.now();
    for (let i = 0; i < n; i += 1000)
      sandbox.publish({
        subscriptionId,
        events: Array.from({ length: Math.min(1000, n - i) }, (_, j) => sampleEvent(j % 2 ? '301' : '101', new Date(), i + j)),
      });
    await until(
      async () => sandbox.pending(subscriptionId) === 0 && ((await q.getProperties()).approximateMessagesCount ?? 0) >= n,
      600_000,
    );
    const seconds = (Date.now() - started) / 1000;
    const lockHolders = hosts.instances.filter((h) =>
      /Singleton lock acquired \(\S+notificationsDrain\.Listener\)/.test(h.output()),
    ).length;
    result.drain = { instances: 3, notifications: n, seconds, perSecond: Math.round(n / seconds), lockHolders };
    log(
      `scale-out drain: ${n} notifications in ${seconds.toFixed(1)} s = ${result.drain.perSecond}/s with 3 instances (lock taken by ${lockHolders} instance(s))`,
    );
  } finally {
    await hosts.stop();
    await sandbox.stop();
  }
  return result;
}

async function until<T>(check: () => T | Promise<T>, timeoutMs: number): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`scale-out bench: condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
