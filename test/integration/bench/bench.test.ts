/**
 * Self-test of the benchmark harness (`npm run bench`) with tiny numbers: it starts Azurite, the
 * raw server, the local host and the Notification API sandbox, drives both HTTP paths with
 * autocannon, drains 100 notifications, probes the cold start, measures the event latency of a few
 * webhook events through a consumer, and writes its JSON. No timing assertions: only that every part
 * ran, every answer was 2xx and every message landed (the latency events once each at the consumer).
 * Needs the compiled app (`npm run build`; `npm test` builds first).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench, type BenchResult } from '../../../bench/run';
import { formatReport, verificationProblems } from '../../../bench/report';

let outDir: string;
let result: BenchResult;
const lines: string[] = [];

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'bench-selftest-'));
  result = await runBench({
    durationSeconds: 1,
    warmupSeconds: 1,
    connections: 4,
    rounds: 1,
    notifications: 100,
    coldRuns: 2,
    latencyRate: 10,
    latencyDurationSeconds: 1,
    latencyIdleEvents: 1,
    only: ['webhook', 'drain', 'cold', 'latency'],
    outDir,
    log: (line) => lines.push(line),
  });
}, 90_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

test('both HTTP paths answered only 2xx and every answered request left a message in its queue', () => {
  const w = result.webhook!;
  expect(w.raw.ok).toBeGreaterThan(0);
  expect(w.webhook.ok).toBeGreaterThan(0);
  for (const side of [w.raw, w.webhook]) {
    expect(side.allAnswered2xx).toBe(true);
    expect(side.allQueued).toBe(true);
    expect(side.queued).toBeGreaterThanOrEqual(side.ok);
    expect(side.runs).toHaveLength(1);
  }
  expect(w.ratio).toBeCloseTo(w.webhook.reqPerSec / w.raw.reqPerSec, 10);
  expect(w.hostLogLines).toBeGreaterThan(0);
});

test('the drain landed all 100 notifications, the raw baseline the same 100 bodies, and the journal is empty', () => {
  const d = result.drain!;
  expect(d).toMatchObject({
    notifications: 100,
    drained: 100,
    drainQueued: 100,
    rawQueued: 100,
    journalLeft: 0,
    verified: true,
    drainStoppedBy: 'empty',
  });
  expect(d.drainPages).toBe(1);
  expect(d.ratio).toBeCloseTo(d.drainMs / d.rawMs, 1);
});

test('cold start was measured in fresh processes and peak RSS is reported', () => {
  expect(result.coldStart!.samplesMs).toHaveLength(2);
  expect(result.coldStart!.modulesLoaded).toBeGreaterThan(0);
  expect(result.benchPeakRssKb).toBeGreaterThan(0);
  if (process.platform === 'linux') expect(result.webhook!.webhook.peakRssKb).toBeGreaterThan(0);
});

test('every latency event was answered 200 and started the consumer once, and its latency was computed', () => {
  const l = result.latency!;
  expect(l.steady).toMatchObject({ sent: 10, accepted: 10, consumed: 10, missing: 0, duplicates: 0 });
  expect(l.idle).toMatchObject({ sent: 1, accepted: 1, consumed: 1, missing: 0, duplicates: 0 });
  for (const f of [l.steady, l.idle]) {
    expect(Number.isFinite(f.p99Ms)).toBe(true);
    expect(f.minMs).toBeLessThanOrEqual(f.p50Ms);
    expect(f.p50Ms).toBeLessThanOrEqual(f.p99Ms);
    expect(f.p99Ms).toBeLessThanOrEqual(f.maxMs);
  }
  // The host ran with the shipped host.json.
  expect(l.maxPollingIntervalMs).toBe(2000);
});

test('the JSON result is written and the table names the ratios and goals', () => {
  expect(result.file && existsSync(result.file)).toBe(true);
  const saved = JSON.parse(readFileSync(result.file!, 'utf8')) as BenchResult;
  expect(saved.drain?.drainQueued).toBe(100);
  expect(saved.goals.map((g) => g.name)).toEqual([
    'webhook throughput / raw',
    'drain time / raw',
    'cold start (median)',
    'event latency, 200 → consumer start, steady load (p99)',
    'event latency, 200 → consumer start, single events after silence (p99)',
  ]);
  const table = formatReport(result);
  expect(table).toContain('ratio webhook/raw throughput');
  expect(table).toContain('ratio drain/raw time');
  expect(table).toContain('(d) cold start');
  expect(table).toContain('(h) event latency');
  expect(verificationProblems(result)).toEqual([]);
});
