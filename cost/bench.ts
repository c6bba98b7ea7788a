/** Reads the figures the cost model needs from a bench result (bench/results/*.json). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult } from '../bench/run';
import { BUILT_IN_MEASURED, type Measured } from './model';

/** The newest result file of `dir` (names are start timestamps), or undefined. */
export function newestBenchFile(dir: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return undefined;
  }
  names.sort();
  const newest = names.at(-1);
  return newest === undefined ? undefined : join(dir, newest);
}

/**
 * The measured figures of a bench result; what the run did not measure (a part left out with `--only`)
 * keeps the built-in figure, and `from` says which came from where.
 */
export function measuredFromBench(result: Partial<BenchResult>, file: string): Measured {
  const m: Measured = { ...BUILT_IN_MEASURED };
  const taken: string[] = [];
  const w = result.webhook;
  if (w) {
    m.webhookExecutionMs = w.webhook.p50Ms;
    m.messageBytes = w.messageBytes;
    // One notification per envelope; a verified run has at least one message per 2xx.
    m.messagesPerEvent = w.webhook.allQueued ? 1 : m.messagesPerEvent;
    if (w.webhook.peakRssKb !== undefined) m.hostPeakRssMib = Math.round(w.webhook.peakRssKb / 1024);
    taken.push('webhook');
  }
  const a = result.archive;
  if (a) {
    m.archiveBytesPerEvent = a.archiveBytesPerEvent;
    m.archiveBlocksPerEventUnderLoad = a.blocksPerRecord;
    taken.push('archive');
  }
  const t = result.telemetry;
  if (t) {
    m.telemetryBytesPerEvent = t.bytesPerEvent;
    m.telemetryBytesPerTimerRun = t.bytesPerTimerRun;
    m.metricBytesPerExport = t.metricBytesPerExport;
    if (t.hostPeakRssKb !== undefined) m.hostPeakRssTelemetryMib = Math.round(t.hostPeakRssKb / 1024);
    taken.push('telemetry');
  }
  m.from = taken.length
    ? `${file} (${taken.join(', ')}${taken.length < 3 ? '; the rest built-in' : ''})`
    : `${file} has no webhook, archive or telemetry part: built-in figures`;
  return m;
}

export function readBench(file: string): Measured {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<BenchResult>;
  return measuredFromBench(parsed, file);
}
