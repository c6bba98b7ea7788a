/**
 * Event latency (issue 25.4): the time from the webhook's 200 to the start of the consumer's invocation.
 * The local host runs as its own process with the shipped `host.json` (queue polling as the Storage
 * extension does: randomized exponential back-off from 100 ms up to `maxPollingInterval`), the shipped
 * `engageWebhook` and a bench-only consumer on the queue it writes to (latencyApp.ts). Two loads:
 *  - steady: `ratePerSecond` webhook POSTs a second for `durationSeconds`, sent on a fixed schedule
 *    (open loop: a slow answer does not delay the next request), each with its own envelope id;
 *  - idle: `idleEvents` single events, each after `idleGapMs` plus a random part of `maxPollingInterval` of
 *    silence (so the events fall at every point of the poll cycle), when the poller has backed off to
 *    `maxPollingInterval` (the worst case of a quiet day).
 * Times are wall-clock (performance.timeOrigin + now) in the bench and in the host process, the same
 * machine clock. A consumer may start a moment before the bench reads the 200 (the message is in the
 * queue before the answer is sent): such latencies are negative and reported as they are.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHostJson } from '../local/host/hostConfig';
import { BENCH_ACTION, webhookBodies, type SignedBody } from './payloads';
import { distFile, projectRoot, startService, type ServiceProcess } from './processes';
import { hostSettings, WEBHOOK_PATH } from './webhookBench';

export const LATENCY_QUEUE = 'bench-latency';

export interface LatencyBenchOptions {
  connectionString: string;
  ratePerSecond: number;
  durationSeconds: number;
  idleEvents: number;
  /** Silence before each idle event (ms); long enough for the back-off to reach maxPollingInterval. */
  idleGapMs?: number;
  /** How long to wait for the last consumer invocations after the last 200 (ms). */
  settleMs?: number;
  log: (line: string) => void;
}

export interface LatencyFigures {
  /** Webhook requests sent. */
  sent: number;
  /** Answered 200. */
  accepted: number;
  /** Answers by HTTP status ("0": no answer, a network error). */
  statusCodes: Record<string, number>;
  /** Accepted events whose consumer invocation started. */
  consumed: number;
  /** Accepted events the consumer never saw within the settle time. */
  missing: number;
  /** Consumer invocations beyond the first per event. */
  duplicates: number;
  /** 200 → consumer start, ms (one decimal). */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  minMs: number;
}

export interface LatencyBenchResult {
  /** From the shipped host.json. */
  maxPollingIntervalMs: number;
  batchSize: number;
  newBatchThreshold: number;
  steady: LatencyFigures & { ratePerSecond: number; durationSeconds: number };
  /** Silence before each idle event: from gapMs to gapMs + maxPollingIntervalMs. */
  idle: LatencyFigures & { gapMs: number };
  hostPeakRssKb?: number;
}

/** The two loads of a result, in the order the bench runs them: key, short name, and the table's label. */
export function latencyLoads(r: LatencyBenchResult): { load: 'steady' | 'idle'; name: string; label: string; figures: LatencyFigures }[] {
  const silence = `${r.idle.gapMs / 1000}–${(r.idle.gapMs + r.maxPollingIntervalMs) / 1000} s`;
  return [
    {
      load: 'steady',
      name: 'steady load',
      label: `steady ${r.steady.ratePerSecond}/s for ${r.steady.durationSeconds} s`,
      figures: r.steady,
    },
    { load: 'idle', name: 'single events after silence', label: `single events, each after ${silence} of silence`, figures: r.idle },
  ];
}

interface Sent {
  id: string;
  status: number;
  /** When the answer arrived (ms since the epoch). */
  answeredAt: number;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export async function benchLatency(options: LatencyBenchOptions): Promise<LatencyBenchResult> {
  const { log } = options;
  const idleGapMs = options.idleGapMs ?? 6000;
  const settleMs = options.settleMs ?? 30_000;
  const root = projectRoot();
  const queueOptions = readHostJson(root);
  const secret = randomBytes(24).toString('base64url');
  const functionKey = randomBytes(24).toString('base64url');
  const steadyCount = options.ratePerSecond * options.durationSeconds;
  const bodies = webhookBodies(steadyCount + options.idleEvents, secret);

  // A project folder as the host reads one: the shipped host.json, and a main that is the shipped app + the consumer.
  const dir = mkdtempSync(join(tmpdir(), 'bench-latency-'));
  const startsFile = join(dir, 'consumer-starts.txt');
  writeFileSync(startsFile, '');
  copyFileSync(join(root, 'host.json'), join(dir, 'host.json'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'engage-bridge', main: distFile('bench/latencyApp.js') }));

  let host: ServiceProcess | undefined;
  try {
    host = await startService(
      distFile('local/host/main.js'),
      ['--port', '0', '--dir', dir, '--functions', 'engageWebhook', '--functions', 'benchLatencyConsumer'],
      {
        ...process.env,
        ...hostSettings(options.connectionString, functionKey, secret),
        ENGAGE_ROUTES: JSON.stringify([{ eventTypes: [BENCH_ACTION], queue: LATENCY_QUEUE }]),
        LATENCY_BENCH_QUEUE: LATENCY_QUEUE,
        LATENCY_BENCH_FILE: startsFile,
        APPLICATIONINSIGHTS_CONNECTION_STRING: '',
      },
      /^Host listening on (\S+)/,
    );
    const url = `${host.ready}${WEBHOOK_PATH}`;
    const post = async (b: SignedBody): Promise<Sent> => {
      const id = `${(JSON.parse(b.body) as { Id: string }).Id}:0`;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', 'ms-signature': b.signature, 'x-functions-key': functionKey },
          body: b.body,
        });
        const answeredAt = now();
        await res.arrayBuffer();
        return { id, status: res.status, answeredAt };
      } catch {
        return { id, status: 0, answeredAt: now() };
      }
    };

    log(
      `latency: local host ${host.ready} (pid ${host.pid}), shipped host.json (maxPollingInterval ${queueOptions.maxPollingIntervalMs} ms, batchSize ${queueOptions.batchSize}); steady ${options.ratePerSecond}/s for ${options.durationSeconds} s`,
    );
    const steadySent: Promise<Sent>[] = [];
    const t0 = now() + 50;
    for (let i = 0; i < steadyCount; i++) {
      await sleep(t0 + (i * 1000) / options.ratePerSecond - now());
      steadySent.push(post(bodies[i]));
    }
    const steady = await Promise.all(steadySent);

    log(
      `latency: ${options.idleEvents} idle event(s), each after ${idleGapMs}–${idleGapMs + queueOptions.maxPollingIntervalMs} ms of silence`,
    );
    const idle: Sent[] = [];
    for (let i = 0; i < options.idleEvents; i++) {
      await sleep(idleGapMs + Math.random() * queueOptions.maxPollingIntervalMs);
      idle.push(await post(bodies[steadyCount + i]));
    }

    const starts = await waitForStarts(startsFile, [...steady, ...idle], settleMs);
    const result: LatencyBenchResult = {
      maxPollingIntervalMs: queueOptions.maxPollingIntervalMs,
      batchSize: queueOptions.batchSize,
      newBatchThreshold: queueOptions.newBatchThreshold,
      steady: { ...figures(steady, starts), ratePerSecond: options.ratePerSecond, durationSeconds: options.durationSeconds },
      idle: { ...figures(idle, starts), gapMs: idleGapMs },
    };
    const rss = host.peakRssKb();
    if (rss !== undefined) result.hostPeakRssKb = rss;
    for (const { load, figures: f } of latencyLoads(result))
      log(
        `latency ${load}: ${f.accepted}/${f.sent} accepted (HTTP ${JSON.stringify(f.statusCodes)}), ${f.consumed} consumed, ${f.missing} missing, ${f.duplicates} duplicates; p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms`,
      );
    return result;
  } finally {
    await host?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads the consumer's start lines until every accepted event has one, or `settleMs` passed. */
async function waitForStarts(file: string, sent: Sent[], settleMs: number): Promise<Map<string, number[]>> {
  const wanted = new Set(sent.filter((s) => s.status === 200).map((s) => s.id));
  const deadline = Date.now() + settleMs;
  for (;;) {
    const starts = readStarts(file);
    if ([...wanted].every((id) => starts.has(id)) || Date.now() >= deadline) {
      // A moment more, so that a duplicate invocation right behind the first one is counted too.
      await sleep(500);
      return readStarts(file);
    }
    await sleep(200);
  }
}

export function readStarts(file: string): Map<string, number[]> {
  const starts = new Map<string, number[]>();
  if (!existsSync(file)) return starts;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [id, at] = line.split(' ');
    if (!id || !at) continue;
    const list = starts.get(id) ?? [];
    list.push(Number(at));
    starts.set(id, list);
  }
  return starts;
}

/** Latency figures of the accepted events: 200 → the first consumer start of the same CloudEvent id. */
export function figures(sent: readonly Sent[], starts: ReadonlyMap<string, readonly number[]>): LatencyFigures {
  const accepted = sent.filter((s) => s.status === 200);
  const statusCodes: Record<string, number> = {};
  for (const s of sent) statusCodes[s.status] = (statusCodes[s.status] ?? 0) + 1;
  const latencies: number[] = [];
  let duplicates = 0;
  for (const s of accepted) {
    const seen = starts.get(s.id);
    if (!seen?.length) continue;
    latencies.push(Math.min(...seen) - s.answeredAt);
    duplicates += seen.length - 1;
  }
  latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  const at = (q: number) =>
    latencies.length ? round(latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]) : NaN;
  return {
    sent: sent.length,
    accepted: accepted.length,
    statusCodes,
    consumed: latencies.length,
    missing: accepted.length - latencies.length,
    duplicates,
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    maxMs: latencies.length ? round(latencies[latencies.length - 1]) : NaN,
    minMs: latencies.length ? round(latencies[0]) : NaN,
  };
}
