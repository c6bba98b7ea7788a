/** The benchmark's table and its goals (checked and reported, never asserted). */
import { latencyLoads } from './latencyBench';
import type { BenchResult } from './run';

export interface Goal {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

export const GOALS = {
  webhookRatioMin: 0.9,
  drainRatioMax: 1.2,
  coldStartMaxMs: 150,
  coldStartTelemetryMaxMs: 250,
  packageMaxBytes: 30 * 1024 * 1024,
  packageMaxFiles: 5000,
  workerCpuRatioMax: 1.3,
  eventLatencyP99MaxMs: 2500,
} as const;

export function goalsOf(
  r: Pick<BenchResult, 'webhook' | 'drain' | 'coldStart' | 'coldStartTelemetry' | 'package' | 'cpu' | 'latency'>,
): Goal[] {
  const goals: Goal[] = [];
  if (r.webhook)
    goals.push({
      name: 'webhook throughput / raw',
      target: `>= ${GOALS.webhookRatioMin}`,
      measured: r.webhook.ratio.toFixed(2),
      met: r.webhook.ratio >= GOALS.webhookRatioMin,
    });
  if (r.drain)
    goals.push({
      name: 'drain time / raw',
      target: `<= ${GOALS.drainRatioMax}`,
      measured: r.drain.ratio.toFixed(2),
      met: r.drain.ratio <= GOALS.drainRatioMax,
    });
  if (r.coldStart)
    goals.push({
      name: 'cold start (median)',
      target: `<= ${GOALS.coldStartMaxMs} ms`,
      measured: `${r.coldStart.medianMs} ms`,
      met: r.coldStart.medianMs <= GOALS.coldStartMaxMs,
    });
  if (r.coldStartTelemetry)
    goals.push({
      name: 'cold start, telemetry on (median)',
      target: `<= ${GOALS.coldStartTelemetryMaxMs} ms`,
      measured: `${r.coldStartTelemetry.medianMs} ms`,
      met: r.coldStartTelemetry.medianMs <= GOALS.coldStartTelemetryMaxMs,
    });
  if (r.cpu)
    goals.push({
      name: 'worker-side CPU / raw sendMessage (median)',
      target: `<= ${GOALS.workerCpuRatioMax}`,
      measured: r.cpu.ratio.toFixed(2),
      met: r.cpu.ratio <= GOALS.workerCpuRatioMax,
    });
  if (r.package) {
    const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
    goals.push(
      {
        name: 'deployment package size (unzipped)',
        target: `<= ${mib(GOALS.packageMaxBytes)}`,
        measured: mib(r.package.bytes),
        met: r.package.bytes <= GOALS.packageMaxBytes,
      },
      {
        name: 'deployment package files',
        target: `<= ${GOALS.packageMaxFiles}`,
        measured: String(r.package.files),
        met: r.package.files <= GOALS.packageMaxFiles,
      },
      {
        name: 'cold start from the package, telemetry on (median)',
        target: `<= ${GOALS.coldStartTelemetryMaxMs} ms`,
        measured: `${r.package.coldStartTelemetry.medianMs} ms`,
        met: r.package.coldStartTelemetry.medianMs <= GOALS.coldStartTelemetryMaxMs,
      },
    );
  }
  if (r.latency)
    for (const { name, figures: f } of latencyLoads(r.latency))
      if (f.consumed > 0)
        goals.push({
          name: `event latency, 200 → consumer start, ${name} (p99)`,
          target: `<= ${GOALS.eventLatencyP99MaxMs} ms`,
          measured: `${Math.round(f.p99Ms)} ms`,
          met: f.p99Ms <= GOALS.eventLatencyP99MaxMs,
        });
  return goals;
}

/** Zero loss: every webhook request answered 2xx and landed, every drained notification landed. */
export function verificationProblems(r: Pick<BenchResult, 'webhook' | 'drain' | 'latency'>): string[] {
  const problems: string[] = [];
  for (const [name, side] of r.webhook
    ? ([
        ['raw', r.webhook.raw],
        ['webhook', r.webhook.webhook],
      ] as const)
    : []) {
    if (!side.allAnswered2xx) problems.push(`${name}: not every request was answered 2xx`);
    if (!side.allQueued) problems.push(`${name}: queue count does not match the 2xx answers`);
  }
  if (r.drain && !r.drain.verified) {
    problems.push(
      `drain: ${r.drain.drained} drained, ${r.drain.drainQueued} in the drain queue, ${r.drain.rawQueued} in the raw queue, ${r.drain.journalLeft} journal entries left (expected ${r.drain.notifications}, ${r.drain.notifications}, ${r.drain.notifications}, 0)${r.drain.drainError ? `: ${r.drain.drainError}` : ''}`,
    );
  }
  for (const { load: name, figures: f } of r.latency ? latencyLoads(r.latency) : []) {
    if (f.accepted !== f.sent)
      problems.push(
        `latency ${name}: ${f.sent - f.accepted} of ${f.sent} webhook requests were not answered 200 (HTTP ${JSON.stringify(f.statusCodes)})`,
      );
    if (f.missing > 0) problems.push(`latency ${name}: ${f.missing} accepted events never reached the consumer`);
    if (f.duplicates > 0) problems.push(`latency ${name}: ${f.duplicates} events reached the consumer more than once`);
  }
  return problems;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

const us = (n: number) => `${Math.round(n)} µs`;

/** The host side is a difference of two measurements: reported as it is (within their noise it can come out below zero). */
function hostSideLine(webhookHostUs: number, workerArchivedUs: number): string {
  const hostUs = webhookHostUs - workerArchivedUs;
  return `    host side (local host HTTP + RPC): ${us(hostUs)} = the webhook run's host CPU ${us(webhookHostUs)} less the worker side with the archive on, as in that run, ${us(workerArchivedUs)}${hostUs < 50 ? ' (within the noise of the two measurements)' : ''}`;
}

const mb = (kb: number | undefined) => (kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(0)} MiB`);

export function formatReport(r: BenchResult): string {
  const out: string[] = [];
  out.push(`engage-bridge benchmark ${r.startedAt} (${r.machine.node}, ${r.machine.platform}, ${r.machine.cpus} x ${r.machine.cpuModel})`);
  if (r.webhook) {
    const w = r.webhook;
    out.push(
      '',
      `HTTP: C=${w.connections}, ${w.durationSeconds} s x ${w.rounds} round(s), 1 notification per envelope, ms-signature enforced, decoder base64-json, message ${w.messageBytes} B (base64)`,
    );
    out.push(
      table([
        ['path', 'req/s (2xx)', 'p50 ms', 'p99 ms', '2xx', 'non-2xx/errors', 'queued', 'verified', 'server CPU/req', 'peak RSS'],
        ...(
          [
            ['(a) raw SDK sendMessage', w.raw],
            ['(b) webhook via local host', w.webhook],
          ] as const
        ).map(([name, s]) => [
          name,
          s.reqPerSec.toFixed(0),
          String(s.p50Ms),
          String(s.p99Ms),
          String(s.ok),
          String(s.runs.reduce((n, x) => n + x.non2xx + x.errors, 0)),
          String(s.queued),
          s.allAnswered2xx && s.allQueued ? 'yes' : 'NO',
          s.cpuMsPerRequest === undefined ? 'n/a' : `${s.cpuMsPerRequest.toFixed(2)} ms`,
          mb(s.peakRssKb),
        ]),
      ]),
    );
    out.push(`ratio webhook/raw throughput: ${w.ratio.toFixed(2)} (per round: ${w.roundRatios.join(', ')})`);
  }
  if (r.drain) {
    const d = r.drain;
    out.push(
      '',
      `v2 drain: ${d.notifications} notifications, page size ${d.pageSize}, ${d.pagesInFlight} pages in flight, enqueue concurrency ${d.enqueueConcurrency} (raw: ${d.parallelism} sends in flight)`,
    );
    out.push(
      table([
        ['path', 'time ms', 'msg/s', 'landed', 'verified'],
        [
          `(c) raw SDK enqueue (mean of ${d.rawRunsMs.join(' / ')})`,
          String(d.rawMs),
          d.rawPerSec.toFixed(0),
          String(d.rawQueued),
          d.rawQueued === d.notifications ? 'yes' : 'NO',
        ],
        [
          `(c) drain (${d.drainPages} pages, journaled)`,
          String(d.drainMs),
          d.drainPerSec.toFixed(0),
          String(d.drainQueued),
          d.verified ? 'yes' : 'NO',
        ],
      ]),
    );
    out.push(`ratio drain/raw time: ${d.ratio.toFixed(2)}`);
  }
  if (r.coldStart) {
    const c = r.coldStart;
    out.push(
      '',
      `(d) cold start require(package.json main: dist/app/main.js): median ${c.medianMs} ms (min ${c.minMs}, max ${c.maxMs}, ${c.runs} processes, ${c.modulesLoaded} modules)`,
    );
  }
  if (r.coldStartTelemetry) {
    const c = r.coldStartTelemetry;
    out.push(
      `    with telemetry on (APPLICATIONINSIGHTS_CONNECTION_STRING set): median ${c.medianMs} ms (min ${c.minMs}, max ${c.maxMs}, ${c.modulesLoaded} modules)`,
    );
  }
  if (r.baseline) {
    const b = r.baseline;
    out.push(
      `    baseline ${b.dir} (its package.json main), same run: median ${b.coldStart.medianMs} ms (${b.coldStart.modulesLoaded} modules); telemetry on ${b.coldStartTelemetry.medianMs} ms (${b.coldStartTelemetry.modulesLoaded} modules)`,
    );
  }
  if (r.package) {
    const p = r.package;
    const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
    out.push(
      `(f) deployment package (scripts/package-function-app.sh): ${mib(p.bytes)}, ${p.files} files (node_modules ${mib(p.nodeModulesBytes)}, ${p.nodeModulesFiles} files)`,
      `    cold start of its main: median ${p.coldStart.medianMs} ms (min ${p.coldStart.minMs}, max ${p.coldStart.maxMs}); telemetry on ${p.coldStartTelemetry.medianMs} ms (min ${p.coldStartTelemetry.minMs}, max ${p.coldStartTelemetry.maxMs})`,
    );
  }
  if (r.cpu) {
    const c = r.cpu;
    out.push(
      `(g) CPU per webhook request, ${c.requests} requests x ${c.rounds.length} round(s), ${c.concurrency} in flight, one process, archive off:`,
      `    raw sendMessage ${us(c.rawUsPerRequest)}, worker side (@azure/functions + handler + SDK send) ${us(c.workerUsPerRequest)}: ${c.ratio.toFixed(2)}x (rounds: ${c.rounds.map((x) => x.ratio.toFixed(2)).join(', ')})`,
      ...(c.hostSide ? [hostSideLine(c.hostSide.webhookHostUsPerRequest, c.hostSide.workerArchivedUsPerRequest)] : []),
    );
  }
  if (r.latency) {
    const l = r.latency;
    out.push(
      '',
      `(h) event latency, webhook 200 → start of the consumer's invocation (local host, shipped host.json: maxPollingInterval ${l.maxPollingIntervalMs} ms, batchSize ${l.batchSize}, newBatchThreshold ${l.newBatchThreshold}):`,
      table([
        ['load', 'events', 'consumed', 'missing', 'duplicates', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
        ...latencyLoads(l).map(({ label, figures: f }) => [
          label,
          `${f.accepted}/${f.sent}`,
          String(f.consumed),
          String(f.missing),
          String(f.duplicates),
          String(f.p50Ms),
          String(f.p90Ms),
          String(f.p99Ms),
          String(f.maxMs),
        ]),
      ]),
    );
  }
  out.push(
    `(e) peak RSS: bench process ${mb(r.benchPeakRssKb)}${r.webhook ? `, local host ${mb(r.webhook.webhook.peakRssKb)}, raw server ${mb(r.webhook.raw.peakRssKb)}` : ''}`,
  );
  if (r.goals.length) {
    out.push(
      '',
      'Goals (reported, not asserted):',
      table([['goal', 'target', 'measured', 'met'], ...r.goals.map((g) => [g.name, g.target, g.measured, g.met ? 'yes' : 'NO'])]),
    );
  }
  const problems = verificationProblems(r);
  out.push(
    '',
    problems.length
      ? `ZERO-LOSS CHECK FAILED:\n  ${problems.join('\n  ')}`
      : `Zero-loss check: every request answered 2xx and landed; every notification landed${r.latency ? '; every latency event reached the consumer once' : ''}.`,
  );
  if (r.file) out.push(`Results: ${r.file}`);
  return out.join('\n');
}
