#!/usr/bin/env node
/**
 * `npm run bench`: one run, side by side, on this machine and one Azurite:
 *  (a) raw baseline: autocannon → bare node:http server doing one SDK sendMessage per request;
 *  (b) the Engage webhook through the local host (own process), same C and duration;
 *  (c) the v2 drain of N notifications vs raw SDK enqueue of the same N bodies;
 *  (d) cold start of package.json main (dist/app/main.js) in fresh processes (telemetry off, then on);
 *  (e) peak RSS of the host, the raw server and this process;
 *  (f) the deployment package: size, files, cold start of its main (telemetry off and on);
 *  (g) the webhook's CPU per request split: worker side (in-process, no HTTP) vs raw sendMessage, host side;
 *  (h) event latency: webhook 200 → start of a consumer's invocation, steady load and single events after silence.
 * Prints a table, checks the goals (reported, not asserted) and writes bench/results/<timestamp>.json.
 *
 * Options: --duration <s> (10) --warmup <s> (3) --connections <C> (32) --rounds <n> (3, alternating raw/webhook)
 *          --notifications <N> (10000) --cold-runs <n> (7) --out <dir> (bench/results)
 *          --latency-rate <events/s> (20) --latency-duration <s> (30) --latency-idle-events <n> (10)
 *          --only webhook,drain,cold,package,cpu,latency,scaleout,archive,telemetry (default webhook,drain,cold,package,cpu,latency)
 *          --profile <dir> (CPU profiles of the host and raw server)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startAzurite } from '../local/azurite';
import { benchColdStart, type ColdStartResult } from './coldStart';
import { benchDrain, type DrainBenchResult } from './drainBench';
import { projectRoot } from './processes';
import { formatReport, goalsOf, verificationProblems, type Goal } from './report';
import { benchWebhook, type WebhookBenchResult } from './webhookBench';
import { benchScaleOut, type ScaleOutBenchResult } from './scaleOutBench';
import { benchArchive, formatArchiveBench, type ArchiveBenchResult } from './archiveBench';
import { benchTelemetry, formatTelemetryBench, type TelemetryBenchResult } from './telemetryBench';
import { benchPackage, type PackageBenchResult } from './packageBench';
import { benchCpuSplit, type CpuSplitResult } from './cpuSplit';
import { benchLatency, type LatencyBenchResult } from './latencyBench';

export const PARTS = ['webhook', 'drain', 'cold', 'package', 'cpu', 'latency', 'scaleout', 'archive', 'telemetry'] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  rounds: number;
  notifications: number;
  coldRuns: number;
  /** Event latency: steady webhook events per second, for how many seconds, then single events after silence. */
  latencyRate: number;
  latencyDurationSeconds: number;
  latencyIdleEvents: number;
  /** Also measure the cold start with telemetry on (the CLI always does). */
  coldTelemetry?: boolean;
  only: Part[];
  /** CPU-profile the host and raw server processes into this directory. */
  profileDir?: string;
  /** Another checkout (built) whose package.json main's cold start is measured in the same run, for before/after. */
  baselineDir?: string;
  /** Directory of the JSON result (undefined: not written). */
  outDir?: string;
  log: (line: string) => void;
}

export interface BenchResult {
  startedAt: string;
  finishedAt: string;
  machine: { node: string; platform: string; cpus: number; cpuModel: string };
  options: Omit<BenchOptions, 'log' | 'outDir'>;
  webhook?: WebhookBenchResult;
  drain?: DrainBenchResult;
  /** Issue 26 (`--only scaleout`, not in the default run): webhook with 1 vs 3 instances, v2 drain with the lease held. */
  scaleOut?: ScaleOutBenchResult;
  /** Issue 27 (`--only archive`, not in the default run): the webhook with the event archive on vs off. */
  archive?: ArchiveBenchResult;
  /** Issue 25.5 (`--only telemetry`, not in the default run): Application Insights bytes per event and the host's peak RSS, telemetry on. */
  telemetry?: TelemetryBenchResult;
  coldStart?: ColdStartResult;
  /** The same with OpenTelemetry on (Azure Monitor distro loaded at start). */
  coldStartTelemetry?: ColdStartResult;
  /** `--baseline <dir>`: the same cold starts of another checkout's main, measured in this run. */
  baseline?: { dir: string; coldStart: ColdStartResult; coldStartTelemetry: ColdStartResult };
  /** Issue 25: the deployment package (size, files, cold start of its main). */
  package?: PackageBenchResult;
  /** Issue 25: the webhook's CPU per request, worker side vs raw sendMessage (and host side when the webhook part ran). */
  cpu?: CpuSplitResult & {
    /** When the webhook part ran: its host CPU per request, and the worker side measured with the archive on as in that
     * run; their difference is the host side (local host HTTP + RPC). */
    hostSide?: { webhookHostUsPerRequest: number; workerArchivedUsPerRequest: number };
  };
  /** Issue 25.4: webhook 200 → start of the consumer's invocation, with the shipped host.json. */
  latency?: LatencyBenchResult;
  /** Peak RSS of this process (load generator, drain, raw drain baseline), KiB. */
  benchPeakRssKb: number;
  goals: Goal[];
  file?: string;
}

export const DEFAULTS: Omit<BenchOptions, 'log'> = {
  durationSeconds: 10,
  warmupSeconds: 3,
  connections: 32,
  rounds: 3,
  notifications: 10_000,
  coldRuns: 7,
  latencyRate: 20,
  latencyDurationSeconds: 30,
  latencyIdleEvents: 10,
  coldTelemetry: true,
  only: ['webhook', 'drain', 'cold', 'package', 'cpu', 'latency'],
  outDir: join(projectRoot(), 'bench', 'results'),
};

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const started = new Date();
  const { log } = options;
  const os = await import('node:os');
  const result: BenchResult = {
    startedAt: started.toISOString(),
    finishedAt: '',
    machine: {
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
    },
    options: {
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      connections: options.connections,
      rounds: options.rounds,
      notifications: options.notifications,
      coldRuns: options.coldRuns,
      latencyRate: options.latencyRate,
      latencyDurationSeconds: options.latencyDurationSeconds,
      latencyIdleEvents: options.latencyIdleEvents,
      only: options.only,
    },
    benchPeakRssKb: 0,
    goals: [],
  };
  // Cold start first, while nothing else of the benchmark is running.
  if (options.only.includes('cold')) {
    log(`cold start: ${options.coldRuns} fresh processes`);
    result.coldStart = await benchColdStart(options.coldRuns);
    if (options.coldTelemetry) {
      log(`cold start with telemetry on: ${options.coldRuns} fresh processes`);
      result.coldStartTelemetry = await benchColdStart(options.coldRuns, true);
    }
    if (options.baselineDir) {
      log(`cold start of the baseline ${options.baselineDir}: telemetry off, then on`);
      result.baseline = {
        dir: options.baselineDir,
        coldStart: await benchColdStart(options.coldRuns, false, options.baselineDir),
        coldStartTelemetry: await benchColdStart(options.coldRuns, true, options.baselineDir),
      };
    }
  }
  if (options.only.includes('package')) result.package = await benchPackage(options.coldRuns, log);
  if (
    options.only.includes('webhook') ||
    options.only.includes('drain') ||
    options.only.includes('cpu') ||
    options.only.includes('latency') ||
    options.only.includes('scaleout') ||
    options.only.includes('archive') ||
    options.only.includes('telemetry')
  ) {
    const azurite = await startAzurite();
    try {
      log(`Azurite on queue port ${azurite.queuePort}, blob port ${azurite.blobPort} (in memory)`);
      // Latency first, on an idle and empty Azurite: it is the figure a busy emulator distorts most (a part that deleted
      // a queue of tens of thousands of messages once kept it at 100 % CPU for minutes, and latency came out in seconds).
      if (options.only.includes('latency')) {
        result.latency = await benchLatency({
          connectionString: azurite.connectionString,
          ratePerSecond: options.latencyRate,
          durationSeconds: options.latencyDurationSeconds,
          idleEvents: options.latencyIdleEvents,
          log,
        });
      }
      if (options.only.includes('webhook')) {
        result.webhook = await benchWebhook({
          connectionString: azurite.connectionString,
          connections: options.connections,
          durationSeconds: options.durationSeconds,
          warmupSeconds: options.warmupSeconds,
          rounds: options.rounds,
          ...(options.profileDir ? { profileDir: options.profileDir } : {}),
          log,
        });
      }
      if (options.only.includes('cpu')) {
        const split = await benchCpuSplit({
          connectionString: azurite.connectionString,
          requests: 3000,
          concurrency: options.connections,
          rounds: options.rounds,
          ...(options.profileDir ? { profileDir: options.profileDir } : {}),
          log,
        });
        // The local host runs the app in its own process: its CPU per request beyond the worker side is its HTTP + RPC
        // layer. The webhook run has the archive on (the default), so the worker side is measured once more that way.
        const hostUs = result.webhook?.webhook.cpuMsPerRequest;
        if (hostUs !== undefined) {
          const archived = await benchCpuSplit({
            connectionString: azurite.connectionString,
            requests: 3000,
            concurrency: options.connections,
            rounds: options.rounds,
            archive: 'strict',
            log,
          });
          result.cpu = {
            ...split,
            hostSide: { webhookHostUsPerRequest: hostUs * 1000, workerArchivedUsPerRequest: archived.workerUsPerRequest },
          };
        } else result.cpu = split;
      }
      if (options.only.includes('drain')) {
        result.drain = await benchDrain({ connectionString: azurite.connectionString, notifications: options.notifications, log });
      }
      if (options.only.includes('scaleout')) {
        const { connections, durationSeconds, rounds, notifications } = options;
        result.scaleOut = await benchScaleOut({
          connectionString: azurite.connectionString,
          connections,
          durationSeconds,
          rounds,
          notifications,
          log,
        });
      }
      if (options.only.includes('archive')) {
        const { connections, durationSeconds, warmupSeconds, rounds } = options;
        result.archive = await benchArchive({
          connectionString: azurite.connectionString,
          connections,
          durationSeconds,
          warmupSeconds,
          rounds,
          log,
        });
      }
      if (options.only.includes('telemetry')) {
        const { connections, durationSeconds } = options;
        result.telemetry = await benchTelemetry({ connectionString: azurite.connectionString, connections, durationSeconds, log });
      }
    } finally {
      await azurite.stop();
    }
  }
  result.benchPeakRssKb = process.resourceUsage().maxRSS;
  result.finishedAt = new Date().toISOString();
  result.goals = goalsOf(result);
  if (options.outDir) {
    mkdirSync(options.outDir, { recursive: true });
    result.file = join(options.outDir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(result.file, `${JSON.stringify(result, null, 2)}\n`);
  }
  return result;
}

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
      notifications: { type: 'string' },
      'cold-runs': { type: 'string' },
      'latency-rate': { type: 'string' },
      'latency-duration': { type: 'string' },
      'latency-idle-events': { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string' },
      profile: { type: 'string' },
      baseline: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      `npm run bench -- [--duration 10] [--warmup 3] [--connections 32] [--rounds 3] [--notifications 10000] [--cold-runs 7] [--latency-rate 20] [--latency-duration 30] [--latency-idle-events 10] [--out bench/results] [--only ${PARTS.join(',')}] [--profile <dir>] [--baseline <other checkout, built>]\n`,
    );
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, fallback: number, min: number, max: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max} (got "${v}")`);
    return n;
  };
  const only =
    values.only === undefined
      ? DEFAULTS.only
      : values.only
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  for (const p of only) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only takes ${PARTS.join(', ')} (got "${p}")`);
  return {
    durationSeconds: int('duration', values.duration, DEFAULTS.durationSeconds, 1, 600),
    warmupSeconds: int('warmup', values.warmup, DEFAULTS.warmupSeconds, 0, 120),
    connections: int('connections', values.connections, DEFAULTS.connections, 1, 1000),
    rounds: int('rounds', values.rounds, DEFAULTS.rounds, 1, 20),
    notifications: int('notifications', values.notifications, DEFAULTS.notifications, 1, 1_000_000),
    coldRuns: int('cold-runs', values['cold-runs'], DEFAULTS.coldRuns, 1, 100),
    latencyRate: int('latency-rate', values['latency-rate'], DEFAULTS.latencyRate, 1, 1000),
    latencyDurationSeconds: int('latency-duration', values['latency-duration'], DEFAULTS.latencyDurationSeconds, 1, 600),
    latencyIdleEvents: int('latency-idle-events', values['latency-idle-events'], DEFAULTS.latencyIdleEvents, 0, 100),
    coldTelemetry: true,
    only: only as Part[],
    outDir: values.out ?? DEFAULTS.outDir,
    ...(values.profile ? { profileDir: values.profile } : {}),
    ...(values.baseline ? { baselineDir: values.baseline } : {}),
    log: (line) => process.stderr.write(`[bench] ${line}\n`),
  };
}

if (require.main === module) {
  // Killed (a timeout, Ctrl-C): exit through process.exit, so that Azurite and the services it started are stopped too.
  // `on`, not `once`: a second signal (timeout(1) forwards one too) must not find the default action back in place.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  runBench(options).then(
    (result) => {
      process.stdout.write(
        `${formatReport(result)}${result.archive ? `\n\n${formatArchiveBench(result.archive)}` : ''}${result.telemetry ? `\n\n${formatTelemetryBench(result.telemetry)}` : ''}\n`,
      );
      // Goals are reported only; a lost or refused message fails the run.
      const archiveUnverified = result.archive !== undefined && !(result.archive.on.verified && result.archive.off.verified);
      process.exit(verificationProblems(result).length || archiveUnverified ? 1 : 0);
    },
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
