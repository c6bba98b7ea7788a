/**
 * (g) Where a webhook request's CPU goes, measured apart from any HTTP server, in one fresh process
 * (`node dist/bench/cpuSplit.js`, started by `npm run bench -- --only cpu`):
 * - raw: `QueueClient.sendMessage` of a message as long as the one the webhook writes;
 * - worker side: the app as it ships (package.json `main`, loaded through the local host's stand-in of
 *   `@azure/functions-core`) invoked with the RPC request the host would send: `@azure/functions`'
 *   InvocationModel (request conversion, the handler, the response), our webhook (signature, JSON limits,
 *   decoding, routing, envelope) and the SDK send. Event archive off, so both sides write one message.
 * Same payloads, the same number of requests in flight; rounds alternate raw / worker. CPU is the process's
 * user + system time (`process.cpuUsage`) per request. The host side (HTTP server, RPC conversion) is what the
 * webhook benchmark's host process spends per request beyond the worker side; in Azure that part is the
 * Functions host, not this app.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { indexFunctions, loadApp } from '../local/host/app';
import { httpResult, httpTriggerData, invokeModel } from '../local/host/rpc';
import { distFile, projectRoot, runNode } from './processes';
import { messageOfEncodedLength } from './filler';
import { BENCH_ACTION, webhookBodies, webhookMessageLength } from './payloads';
import { hostSettings } from './webhookBench';

export interface CpuSplitRound {
  round: number;
  rawUsPerRequest: number;
  workerUsPerRequest: number;
  ratio: number;
}

export interface CpuSplitResult {
  requests: number;
  concurrency: number;
  rounds: CpuSplitRound[];
  /** Medians over the rounds. */
  rawUsPerRequest: number;
  workerUsPerRequest: number;
  ratio: number;
  profile?: string;
}

const RAW_QUEUE = 'bench-cpu-raw';
/** The worker side's queue: its own, so that the webhook part's queue (tens of thousands of messages) is left alone. */
const WORKER_QUEUE = 'bench-cpu-webhook';

async function inFlight(total: number, concurrency: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await one(next++);
    }),
  );
}

function cpuUs(run: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  return run().then(() => {
    const d = process.cpuUsage(before);
    return d.user + d.system;
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the measurement in a fresh process (the app loads once per process, as in the worker). */
export async function benchCpuSplit(options: {
  connectionString: string;
  requests: number;
  concurrency: number;
  rounds: number;
  profileDir?: string;
  archive?: 'off' | 'strict';
  log: (line: string) => void;
}): Promise<CpuSplitResult> {
  options.log(
    `CPU split: ${options.rounds} round(s) of ${options.requests} requests, raw sendMessage then worker side, ${options.concurrency} in flight`,
  );
  const args = [
    distFile('bench/cpuSplit.js'),
    '--storage',
    options.connectionString,
    '--requests',
    String(options.requests),
    '--concurrency',
    String(options.concurrency),
    '--rounds',
    String(options.rounds),
    ...(options.profileDir ? ['--profile', join(options.profileDir, 'worker-side.cpuprofile')] : []),
    ...(options.archive ? ['--archive', options.archive] : []),
  ];
  const out = await runNode(args, { PATH: process.env.PATH, HOME: process.env.HOME });
  return JSON.parse(out.trim().split('\n').pop()!) as CpuSplitResult;
}

export async function measureCpuSplit(options: {
  connectionString: string;
  requests: number;
  concurrency: number;
  rounds: number;
  profileFile?: string;
  /** ARCHIVE_MODE of the app (default off: then both sides write one message). */
  archive?: 'off' | 'strict';
  /** The app's main (default: this build's dist/app/main.js; another build's for before/after). */
  main?: string;
}): Promise<CpuSplitResult> {
  const secret = randomBytes(24).toString('base64url');
  Object.assign(process.env, hostSettings(options.connectionString, 'unused', secret), {
    ENGAGE_ROUTES: JSON.stringify([{ eventTypes: [BENCH_ACTION], queue: WORKER_QUEUE }]),
    ARCHIVE_MODE: options.archive ?? 'off',
  });
  const app = mkdtempSync(join(tmpdir(), 'bench-cpu-'));
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'engage-bridge-cpu', main: options.main ?? join(projectRoot(), 'dist', 'app', 'main.js') }),
  );
  const entryPoint = await loadApp(app);
  const { functions } = indexFunctions({ entryPoint, env: process.env, only: ['engageWebhook'] });
  const webhook = functions.find((f) => f.name === 'engageWebhook');
  if (!webhook) throw new Error('engageWebhook was not indexed');

  const bodies = webhookBodies(1000, secret).map((b) => ({ bytes: Buffer.from(b.body), signature: b.signature }));
  const http = (i: number) => {
    const b = bodies[i % bodies.length];
    return {
      method: 'POST',
      url: 'http://127.0.0.1:7071/api/engage/webhook',
      headers: { 'content-type': 'application/json; charset=utf-8', 'ms-signature': b.signature, 'content-length': String(b.bytes.length) },
      query: {},
      params: {},
      body: { bytes: b.bytes },
    };
  };
  const worker = async (i: number) => {
    const response = await invokeModel(webhook, {
      invocationId: randomUUID(),
      functionId: webhook.functionId,
      ...httpTriggerData(webhook, http(i)),
    });
    const status = httpResult(response).status;
    if (status !== 200) throw new Error(`webhook answered ${status}`);
  };
  const queues = QueueServiceClient.fromConnectionString(options.connectionString);
  const raw: QueueClient = queues.getQueueClient(RAW_QUEUE);
  await raw.createIfNotExists();
  const text = messageOfEncodedLength(webhookMessageLength());
  const send = async () => void (await raw.sendMessage(text));

  // Warm-up: JIT, connections, queue creation (with 200 requests each, the first round still ran ~1.5x slower).
  await inFlight(1000, options.concurrency, send);
  await inFlight(1000, options.concurrency, worker);

  const rounds: CpuSplitRound[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const rawUs = await cpuUs(() => inFlight(options.requests, options.concurrency, send));
    const workerUs = await cpuUs(() => inFlight(options.requests, options.concurrency, worker));
    const r = { round, rawUsPerRequest: rawUs / options.requests, workerUsPerRequest: workerUs / options.requests };
    rounds.push({ ...r, ratio: r.workerUsPerRequest / r.rawUsPerRequest });
  }
  if (options.profileFile) {
    // One more worker-side run, profiled (the measured rounds are not: the profiler costs CPU too).
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await inFlight(options.requests, options.concurrency, worker);
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(options.profileFile, JSON.stringify(profile));
    session.disconnect();
  }
  // The queues are left as they are: deleting one of thousands of messages keeps an in-memory Azurite busy for minutes
  // (it slowed every later part), and the bench's Azurite is discarded at the end.
  const rawUs = median(rounds.map((r) => r.rawUsPerRequest));
  const workerUs = median(rounds.map((r) => r.workerUsPerRequest));
  return {
    requests: options.requests,
    concurrency: options.concurrency,
    rounds,
    rawUsPerRequest: rawUs,
    workerUsPerRequest: workerUs,
    ratio: workerUs / rawUs,
    ...(options.profileFile ? { profile: options.profileFile } : {}),
  };
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      storage: { type: 'string' },
      requests: { type: 'string', default: '3000' },
      concurrency: { type: 'string', default: '32' },
      rounds: { type: 'string', default: '3' },
      profile: { type: 'string' },
      archive: { type: 'string', default: 'off' },
      main: { type: 'string' },
    },
  });
  if (!values.storage) throw new Error('--storage <connection string> is required');
  measureCpuSplit({
    connectionString: values.storage,
    requests: Number(values.requests),
    concurrency: Number(values.concurrency),
    rounds: Number(values.rounds),
    archive: values.archive === 'strict' ? 'strict' : 'off',
    ...(values.main ? { main: values.main } : {}),
    ...(values.profile ? { profileFile: values.profile } : {}),
  }).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
