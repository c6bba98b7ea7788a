/**
 * (d) Cold start of the app module: in fresh node processes, the time to require package.json `main`
 * (dist/app/main.js, the bundle Azure runs: what the Functions worker loads), measured inside the
 * process with hrtime around the require. Median (and min/max) of `runs` processes.
 * (No settings are given: loading the app must not need any.) With `telemetry`, the same with
 * OpenTelemetry on (APPLICATIONINSIGHTS_CONNECTION_STRING and the AAD authentication string as
 * deployed, an unreachable ingestion endpoint: nothing is sent before the probe exits).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, runNode } from './processes';

export interface ColdStartResult {
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
  /** Modules loaded by the require (from require.cache), in the median run. */
  modulesLoaded: number;
}

const PROBE = `
const start = process.hrtime.bigint();
require(process.argv[1]);
const ms = Number(process.hrtime.bigint() - start) / 1e6;
process.stdout.write(JSON.stringify({ ms, modules: Object.keys(require.cache).length }) + '\\n');
process.exit(0);
`;

const TELEMETRY_ON: NodeJS.ProcessEnv = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=00000000-0000-0000-0000-000000000000;Authorization=AAD',
};

/** package.json `main` of the app in `root` (the repository, or an unpacked deployment package). */
export function appMain(root = projectRoot()): string {
  return join(root, (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string }).main);
}

export async function benchColdStart(runs: number, telemetry = false, root = projectRoot()): Promise<ColdStartResult> {
  const entry = appMain(root);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...(telemetry ? TELEMETRY_ON : {}) };
  const samples: { ms: number; modules: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const out = await runNode(['-e', PROBE, entry], env);
    const line = out.trim().split('\n').pop() ?? '';
    samples.push(JSON.parse(line) as { ms: number; modules: number });
  }
  const sorted = [...samples].sort((a, b) => a.ms - b.ms);
  const mid = sorted[Math.floor(sorted.length / 2)];
  return {
    runs,
    medianMs: round(mid.ms),
    minMs: round(sorted[0].ms),
    maxMs: round(sorted[sorted.length - 1].ms),
    samplesMs: samples.map((s) => round(s.ms)),
    modulesLoaded: mid.modules,
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
