/**
 * (a) raw baseline vs (b) the Engage webhook through the local host, same Azurite, same C, same
 * duration, alternating rounds (ABBA) after a warm-up of each. Both servers run as their own processes
 * (the load generator stays in the bench process). After each measured run the target queue is
 * counted: it must hold at least one message per 2xx answer, and at most that plus the requests
 * still in flight when autocannon stopped (≤ C).
 */
import { randomBytes } from 'node:crypto';
import { QueueServiceClient } from '@azure/storage-queue';
import { runLoad, type LoadFigures, type PreparedRequest } from './load';
import { BENCH_ACTION, webhookBodies, webhookMessageLength } from './payloads';
import { distFile, startService, type ServiceProcess } from './processes';

export const RAW_QUEUE = 'bench-raw';
export const WEBHOOK_QUEUE = 'bench-webhook';
/** The Engage webhook's route under the local host (functions/engageWebhook.ts). */
export const WEBHOOK_PATH = '/api/engage/webhook';
/** Distinct signed envelopes cycled through by the load generator. */
const BODY_POOL = 1000;

export interface WebhookBenchOptions {
  connectionString: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  /** Write CPU profiles of the host and the raw server to this directory (`node --cpu-prof`). */
  profileDir?: string;
  log: (line: string) => void;
}

export interface MeasuredRun extends LoadFigures {
  round: number;
  /** Messages found in the queue after the run. */
  queued: number;
  /** queued is within [2xx, 2xx + in-flight at stop] and every answer was 2xx. */
  verified: boolean;
  /** CPU time the server process used during the run, per 2xx answer (ms); undefined without /proc. */
  cpuMsPerRequest?: number;
}

export interface Side {
  runs: MeasuredRun[];
  /** Over all rounds: total 2xx / total seconds. */
  reqPerSec: number;
  /** Median over rounds of each round's percentile. */
  p50Ms: number;
  p99Ms: number;
  ok: number;
  queued: number;
  allAnswered2xx: boolean;
  allQueued: boolean;
  peakRssKb?: number;
  /** Server CPU per 2xx answer over all rounds (ms): what the path costs, whatever the machine's load. */
  cpuMsPerRequest?: number;
}

export interface WebhookBenchResult {
  connections: number;
  durationSeconds: number;
  rounds: number;
  messageBytes: number;
  signatureMode: 'enforce';
  decoder: 'base64-json';
  raw: Side;
  webhook: Side;
  /** webhook req/s ÷ raw req/s, over all rounds. */
  ratio: number;
  /** The same ratio per round (adjacent runs): shows how much the machine's load varied. */
  roundRatios: number[];
  hostLogLines: number;
}

/** Settings of the host process for the webhook benchmark (only engageWebhook and health run: `--functions`). */
export function hostSettings(connectionString: string, functionKey: string, secret: string): Record<string, string> {
  const settings: Record<string, string> = {
    AzureWebJobsStorage: connectionString,
    LOCAL_FUNCTION_KEY: functionKey,
    ENGAGE_SIGNATURE_MODE: 'enforce',
    ENGAGE_WEBHOOK_SECRET: secret,
    ENGAGE_DECODER: 'base64-json',
    ENGAGE_ROUTES: JSON.stringify([{ eventTypes: [BENCH_ACTION], queue: WEBHOOK_QUEUE }]),
  };
  return settings;
}

export async function benchWebhook(options: WebhookBenchOptions): Promise<WebhookBenchResult> {
  const { log } = options;
  const secret = randomBytes(24).toString('base64url');
  const functionKey = randomBytes(24).toString('base64url');
  const bodies = webhookBodies(BODY_POOL, secret);
  const messageBytes = webhookMessageLength();
  const queues = QueueServiceClient.fromConnectionString(options.connectionString);

  const webhookRequests: PreparedRequest[] = bodies.map((b) => ({
    body: b.body,
    headers: { 'content-type': 'application/json; charset=utf-8', 'ms-signature': b.signature, 'x-functions-key': functionKey },
  }));
  const rawRequests: PreparedRequest[] = bodies.map((b) => ({
    body: b.body,
    headers: { 'content-type': 'application/json; charset=utf-8', 'ms-signature': b.signature },
  }));

  let raw: ServiceProcess | undefined;
  let host: ServiceProcess | undefined;
  try {
    raw = await startService(
      distFile('bench/rawServer.js'),
      [],
      { ...process.env, RAW_STORAGE: options.connectionString, RAW_QUEUE, RAW_MESSAGE_BYTES: String(messageBytes), RAW_PORT: '0' },
      /^Raw server listening on (\S+)/,
      { nodeArgs: profileArgs(options.profileDir, 'raw-server') },
    );
    host = await startService(
      distFile('local/host/main.js'),
      ['--port', '0', '--functions', 'engageWebhook', '--functions', 'health'],
      { ...process.env, ...hostSettings(options.connectionString, functionKey, secret) },
      /^Host listening on (\S+)/,
      { nodeArgs: profileArgs(options.profileDir, 'host') },
    );
    log(
      `raw server ${raw.ready} (pid ${raw.pid}), local host ${host.ready} (pid ${host.pid}), C=${options.connections}, ${options.durationSeconds} s x ${options.rounds} round(s)`,
    );
    await checkOnce(host.ready, webhookRequests[0], host);

    const sides = {
      raw: { url: raw.ready, path: '/', requests: rawRequests, queue: RAW_QUEUE, runs: [] as MeasuredRun[], process: raw },
      webhook: {
        url: host.ready,
        path: WEBHOOK_PATH,
        requests: webhookRequests,
        queue: WEBHOOK_QUEUE,
        runs: [] as MeasuredRun[],
        process: host,
      },
    };
    for (const [name, s] of Object.entries(sides)) {
      if (options.warmupSeconds > 0) {
        log(`warm-up ${name} (${options.warmupSeconds} s)`);
        await runLoad({
          url: s.url,
          path: s.path,
          connections: options.connections,
          durationSeconds: options.warmupSeconds,
          requests: s.requests,
        });
      }
    }
    for (let round = 1; round <= options.rounds; round++) {
      // ABBA order (raw, webhook, webhook, raw, ...) so that a drift in machine load hits both alike.
      const order = round % 2 === 1 ? (['raw', 'webhook'] as const) : (['webhook', 'raw'] as const);
      for (const name of order) {
        const s = sides[name];
        const q = queues.getQueueClient(s.queue);
        await q.createIfNotExists();
        // Counted as a difference: Azurite (in memory) can stall for minutes clearing a large queue.
        const before = await settle(q);
        const cpuBefore = s.process.cpuMs();
        const figures = await runLoad({
          url: s.url,
          path: s.path,
          connections: options.connections,
          durationSeconds: options.durationSeconds,
          requests: s.requests,
        });
        const queued = (await settle(q, before + figures.ok)) - before;
        const cpuAfter = s.process.cpuMs();
        const verified = figures.non2xx === 0 && figures.errors === 0 && queued >= figures.ok && queued <= figures.ok + options.connections;
        const cpuMsPerRequest =
          cpuBefore !== undefined && cpuAfter !== undefined && queued > 0 ? (cpuAfter - cpuBefore) / queued : undefined;
        s.runs.push({ ...figures, round, queued, verified, ...(cpuMsPerRequest !== undefined ? { cpuMsPerRequest } : {}) });
        log(
          `${name} round ${round}: ${figures.reqPerSec.toFixed(0)} req/s, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, 2xx ${figures.ok}, non-2xx ${figures.non2xx}, errors ${figures.errors}, queued ${queued}${cpuMsPerRequest !== undefined ? `, server CPU ${cpuMsPerRequest.toFixed(2)} ms/req` : ''}${verified ? '' : ' (NOT VERIFIED)'}`,
        );
      }
    }
    const rawSide = summarise(sides.raw.runs, raw.peakRssKb());
    const webhookSide = summarise(sides.webhook.runs, host.peakRssKb());
    return {
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      rounds: options.rounds,
      messageBytes,
      signatureMode: 'enforce',
      decoder: 'base64-json',
      raw: rawSide,
      webhook: webhookSide,
      ratio: rawSide.reqPerSec > 0 ? webhookSide.reqPerSec / rawSide.reqPerSec : 0,
      roundRatios: sides.webhook.runs.map((w, i) => {
        const r = sides.raw.runs[i];
        return r.reqPerSec > 0 ? Math.round((w.reqPerSec / r.reqPerSec) * 100) / 100 : 0;
      }),
      hostLogLines: host.lines(),
    };
  } finally {
    await Promise.all([raw?.stop(), host?.stop()]);
  }
}

function profileArgs(dir: string | undefined, name: string): string[] {
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
}

/** One request before the load: a clear error (status and body) if the webhook is not answering 200. */
async function checkOnce(url: string, request: PreparedRequest, host: ServiceProcess): Promise<void> {
  const res = await fetch(`${url}${WEBHOOK_PATH}`, { method: 'POST', headers: request.headers, body: request.body });
  const text = await res.text();
  if (res.status !== 200)
    throw new Error(`the webhook answered ${res.status} ${text} to a valid signed envelope; host output:\n${host.tail()}`);
}

/** Waits until the queue's message count stops changing (and reaches `atLeast`, up to 15 s); returns it. */
async function settle(queue: ReturnType<QueueServiceClient['getQueueClient']>, atLeast = 0): Promise<number> {
  const deadline = Date.now() + 15_000;
  let last = -1;
  for (;;) {
    const count = (await queue.getProperties()).approximateMessagesCount ?? 0;
    if ((count === last && count >= atLeast) || Date.now() > deadline) return count;
    last = count;
    await new Promise((r) => setTimeout(r, 150));
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function summarise(runs: MeasuredRun[], peakRssKb: number | undefined): Side {
  const ok = runs.reduce((n, r) => n + r.ok, 0);
  const withCpu = runs.filter((r) => r.cpuMsPerRequest !== undefined);
  const cpuMs = withCpu.reduce((n, r) => n + r.cpuMsPerRequest! * r.queued, 0);
  const cpuRequests = withCpu.reduce((n, r) => n + r.queued, 0);
  const seconds = runs.reduce((n, r) => n + r.durationSeconds, 0);
  return {
    runs,
    reqPerSec: seconds > 0 ? ok / seconds : 0,
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    ok,
    queued: runs.reduce((n, r) => n + r.queued, 0),
    allAnswered2xx: runs.every((r) => r.non2xx === 0 && r.errors === 0),
    allQueued: runs.every((r) => r.verified),
    ...(peakRssKb !== undefined ? { peakRssKb } : {}),
    ...(cpuRequests > 0 ? { cpuMsPerRequest: cpuMs / cpuRequests } : {}),
  };
}
