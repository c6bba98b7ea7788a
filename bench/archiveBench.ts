/**
 * `npm run bench -- --only archive`: the Engage webhook with the event archive on (ARCHIVE_MODE=strict,
 * the default) and off, two local hosts against the same Azurite, same C and duration, alternating
 * rounds (ABBA) after a warm-up of each. Reports throughput, p50/p99, host CPU per request and the
 * archive's bytes per event (bytes of the archive blobs ÷ records in them). Each measured run is
 * verified as in webhookBench: every answer 2xx and at least one queued message per 2xx.
 */
import { randomBytes } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { runLoad, type PreparedRequest } from './load';
import { BENCH_ACTION, webhookBodies, webhookMessageLength } from './payloads';
import { distFile, startService, type ServiceProcess } from './processes';
import { hostSettings, WEBHOOK_PATH } from './webhookBench';

const BODY_POOL = 1000;
export const ARCHIVE_BENCH_CONTAINER = 'bench-archive';

export interface ArchiveBenchOptions {
  connectionString: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  log: (line: string) => void;
}

export interface ArchiveRun {
  round: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  queued: number;
  verified: boolean;
  cpuMsPerRequest?: number;
}

export interface ArchiveSide {
  runs: ArchiveRun[];
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  verified: boolean;
  cpuMsPerRequest?: number;
}

export interface ArchiveBenchResult {
  connections: number;
  durationSeconds: number;
  rounds: number;
  /** The queue message (base64) of one event. */
  messageBytes: number;
  on: ArchiveSide;
  off: ArchiveSide;
  /** on req/s ÷ off req/s over all rounds (goal ≥ 0.90). */
  ratio: number;
  roundRatios: number[];
  /** Archive blob bytes ÷ records (one per event), and the counts behind it. */
  archiveBytesPerEvent: number;
  archiveRecords: number;
  archiveBytes: number;
  archiveBlobs: number;
  /** Append Block calls (committed blocks) per record: how well appends are grouped. */
  blocksPerRecord: number;
}

export async function benchArchive(options: ArchiveBenchOptions): Promise<ArchiveBenchResult> {
  const { log } = options;
  const secret = randomBytes(24).toString('base64url');
  const functionKey = randomBytes(24).toString('base64url');
  const requests: PreparedRequest[] = webhookBodies(BODY_POOL, secret).map((b) => ({
    body: b.body,
    headers: { 'content-type': 'application/json; charset=utf-8', 'ms-signature': b.signature, 'x-functions-key': functionKey },
  }));
  const queues = QueueServiceClient.fromConnectionString(options.connectionString);
  const base = hostSettings(options.connectionString, functionKey, secret);
  const settingsFor = (queue: string, mode: 'strict' | 'off') => ({
    ...process.env,
    ...base,
    ENGAGE_ROUTES: JSON.stringify([{ eventTypes: [BENCH_ACTION], queue }]),
    ARCHIVE_MODE: mode,
    ARCHIVE_CONTAINER: ARCHIVE_BENCH_CONTAINER,
  });
  const hosts: Partial<Record<'on' | 'off', ServiceProcess>> = {};
  try {
    for (const [name, queue, mode] of [
      ['on', 'bench-archive-on', 'strict'],
      ['off', 'bench-archive-off', 'off'],
    ] as const) {
      hosts[name] = await startService(
        distFile('local/host/main.js'),
        ['--port', '0', '--functions', 'engageWebhook', '--functions', 'health'],
        settingsFor(queue, mode),
        /^Host listening on (\S+)/,
      );
      const res = await fetch(`${hosts[name].ready}${WEBHOOK_PATH}`, {
        method: 'POST',
        headers: requests[0].headers,
        body: requests[0].body,
      });
      if (res.status !== 200) throw new Error(`archive ${name}: the webhook answered ${res.status} ${await res.text()}`);
    }
    const sides = {
      on: { host: hosts.on!, queue: 'bench-archive-on', runs: [] as ArchiveRun[] },
      off: { host: hosts.off!, queue: 'bench-archive-off', runs: [] as ArchiveRun[] },
    };
    log(
      `archive on (pid ${sides.on.host.pid}) and off (pid ${sides.off.host.pid}), C=${options.connections}, ${options.durationSeconds} s x ${options.rounds} round(s)`,
    );
    if (options.warmupSeconds > 0)
      for (const name of ['on', 'off'] as const) {
        log(`warm-up archive ${name} (${options.warmupSeconds} s)`);
        await runLoad({
          url: sides[name].host.ready,
          path: WEBHOOK_PATH,
          connections: options.connections,
          durationSeconds: options.warmupSeconds,
          requests,
        });
      }
    for (let round = 1; round <= options.rounds; round++) {
      const order = round % 2 === 1 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const name of order) {
        const s = sides[name];
        const q = queues.getQueueClient(s.queue);
        await q.createIfNotExists();
        const before = await settle(q);
        const cpuBefore = s.host.cpuMs();
        const f = await runLoad({
          url: s.host.ready,
          path: WEBHOOK_PATH,
          connections: options.connections,
          durationSeconds: options.durationSeconds,
          requests,
        });
        const queued = (await settle(q, before + f.ok)) - before;
        const cpuAfter = s.host.cpuMs();
        const verified = f.non2xx === 0 && f.errors === 0 && queued >= f.ok && queued <= f.ok + options.connections;
        const cpu = cpuBefore !== undefined && cpuAfter !== undefined && queued > 0 ? (cpuAfter - cpuBefore) / queued : undefined;
        s.runs.push({
          round,
          reqPerSec: f.reqPerSec,
          p50Ms: f.p50Ms,
          p99Ms: f.p99Ms,
          ok: f.ok,
          queued,
          verified,
          ...(cpu !== undefined ? { cpuMsPerRequest: cpu } : {}),
        });
        log(
          `archive ${name} round ${round}: ${f.reqPerSec.toFixed(0)} req/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, 2xx ${f.ok}, queued ${queued}${cpu !== undefined ? `, host CPU ${cpu.toFixed(2)} ms/req` : ''}${verified ? '' : ' (NOT VERIFIED)'}`,
        );
      }
    }
    const blobs = BlobServiceClient.fromConnectionString(options.connectionString).getContainerClient(ARCHIVE_BENCH_CONTAINER);
    let archiveBytes = 0;
    let archiveRecords = 0;
    let archiveBlobs = 0;
    let blocks = 0;
    for await (const b of blobs.listBlobsFlat()) {
      archiveBlobs++;
      const client = blobs.getAppendBlobClient(b.name);
      const buf = await client.downloadToBuffer();
      archiveBytes += buf.length;
      for (const byte of buf) if (byte === 0x0a) archiveRecords++;
      blocks += (await client.getProperties()).blobCommittedBlockCount ?? 0;
    }
    const on = summarise(sides.on.runs);
    const off = summarise(sides.off.runs);
    return {
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      rounds: options.rounds,
      messageBytes: webhookMessageLength(),
      on,
      off,
      ratio: off.reqPerSec > 0 ? on.reqPerSec / off.reqPerSec : 0,
      roundRatios: sides.on.runs.map((r, i) => {
        const o = sides.off.runs[i];
        return o.reqPerSec > 0 ? Math.round((r.reqPerSec / o.reqPerSec) * 100) / 100 : 0;
      }),
      archiveBytesPerEvent: archiveRecords > 0 ? Math.round(archiveBytes / archiveRecords) : 0,
      archiveRecords,
      archiveBytes,
      archiveBlobs,
      blocksPerRecord: archiveRecords > 0 ? blocks / archiveRecords : 0,
    };
  } finally {
    await Promise.all([hosts.on?.stop(), hosts.off?.stop()]);
  }
}

export function formatArchiveBench(a: ArchiveBenchResult): string {
  const row = (name: string, s: ArchiveSide) =>
    `| ${name.padEnd(12)} | ${s.reqPerSec.toFixed(0).padStart(11)} | ${String(s.p50Ms).padStart(6)} | ${String(s.p99Ms).padStart(6)} | ${String(s.ok).padStart(7)} | ${(s.cpuMsPerRequest === undefined ? 'n/a' : `${s.cpuMsPerRequest.toFixed(2)} ms`).padStart(13)} | ${(s.verified ? 'yes' : 'NO').padEnd(8)} |`;
  return [
    `Archive: webhook with ARCHIVE_MODE=strict vs off, C=${a.connections}, ${a.durationSeconds} s x ${a.rounds} round(s), message ${a.messageBytes} B (base64)`,
    '| archive      | req/s (2xx) | p50 ms | p99 ms |     2xx | host CPU/req  | verified |',
    '|--------------|-------------|--------|--------|---------|---------------|----------|',
    row('on (strict)', a.on),
    row('off', a.off),
    `ratio on/off throughput: ${a.ratio.toFixed(2)} (per round: ${a.roundRatios.join(', ')}; goal >= 0.90)`,
    `archive: ${a.archiveBytesPerEvent} B per event (${a.archiveBytes} B in ${a.archiveRecords} records, ${a.archiveBlobs} blob(s)), ${a.blocksPerRecord.toFixed(3)} Append Block calls per event`,
  ].join('\n');
}

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

function summarise(runs: ArchiveRun[]): ArchiveSide {
  const ok = runs.reduce((n, r) => n + r.ok, 0);

  const withCpu = runs.filter((r) => r.cpuMsPerRequest !== undefined);
  const cpuRequests = withCpu.reduce((n, r) => n + r.queued, 0);
  const cpuMs = withCpu.reduce((n, r) => n + r.cpuMsPerRequest! * r.queued, 0);
  return {
    runs,
    // Runs are of equal length: the mean of their rates.
    reqPerSec: runs.length > 0 ? runs.reduce((n, r) => n + r.reqPerSec, 0) / runs.length : 0,
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    ok,
    verified: runs.every((r) => r.verified),
    ...(cpuRequests > 0 ? { cpuMsPerRequest: cpuMs / cpuRequests } : {}),
  };
}
