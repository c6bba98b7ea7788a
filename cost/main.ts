#!/usr/bin/env node
/**
 * `npm run cost -- --events-per-day N [...]`: the monthly cost of the bridge on Flex Consumption (on
 * demand), from the prices in cost/model.ts (sources in docs/cost.md) and the figures of the newest bench
 * result (bench/results/*.json, or --from-bench). Offline: it reads files only.
 * `--table` prints docs/cost.md's generated table (`--table --write` updates docs/cost.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CronExpressionParser } from 'cron-parser';
import { projectRoot } from '../bench/processes';
import { newestBenchFile, readBench } from './bench';
import {
  BUILT_IN_MEASURED,
  DEFAULT_DEPLOYMENT,
  estimate,
  INSTANCE_MEMORY_MB,
  PRICES,
  type Deployment,
  type InstanceMemoryMb,
  type PriceId,
  type PriceTable,
} from './model';
import { formatEstimate, renderCostTable, withCostTable } from './report';

const ROOT = projectRoot(__dirname);
export const COST_DOC = join(ROOT, 'docs', 'cost.md');

/** Seconds between runs of an NCRONTAB schedule (six fields), averaged over a week. */
export function scheduleIntervalSeconds(schedule: string): number {
  if (schedule.trim().split(/\s+/).length !== 6)
    throw new InvalidArgumentError(
      `"${schedule}" must be an NCRONTAB expression with six fields (second minute hour day month day-of-week)`,
    );
  const start = new Date('2026-01-05T00:00:00Z');
  // Occurrences in [start, start + 7 days).
  const end = new Date(start.getTime() + 7 * 86_400_000 - 1);
  let runs = 0;
  try {
    const it = CronExpressionParser.parse(schedule, { currentDate: new Date(start.getTime() - 1), endDate: end, tz: 'UTC' });
    while (it.hasNext() && runs < 7 * 86_400) {
      it.next();
      runs++;
    }
  } catch (err) {
    throw new InvalidArgumentError(`"${schedule}" is not a schedule: ${(err as Error).message}`);
  }
  if (runs === 0) throw new InvalidArgumentError(`"${schedule}" never runs in a week`);
  return (7 * 86_400) / runs;
}

const number =
  (name: string, min: number, max = 1e12) =>
  (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}`);
    return n;
  };
const onOff = (v: string) => {
  if (v !== 'on' && v !== 'off') throw new InvalidArgumentError('must be on or off');
  return v === 'on';
};

const PRICE_FLAGS: [PriceId, string][] = (Object.keys(PRICES) as PriceId[]).map((id) => [id, PRICES[id].flag]);
const flagKey = (flag: string) => flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function program(): Command {
  const cmd = new Command('cost')
    .description('Monthly cost of engage-bridge on Flex Consumption (on demand), from measured figures; see docs/cost.md')
    .option('--events-per-day <n>', 'events a day reaching the webhook (one message each)', number('--events-per-day', 0, 1e9))
    .addOption(
      new Option('--memory <mb>', 'instanceMemoryMB').choices(INSTANCE_MEMORY_MB.map(String)).default(String(DEFAULT_DEPLOYMENT.memoryMb)),
    )
    .option('--noojee <on|off>', 'Noojee configured (the callEvents timer long-polls)', onOff, DEFAULT_DEPLOYMENT.noojee)
    .option(
      '--noojee-poll-seconds <s>',
      'NOOJEE_RUN_SECONDS: how long each run long-polls',
      number('--noojee-poll-seconds', 1, 600),
      DEFAULT_DEPLOYMENT.noojeeRunSeconds,
    )
    .option('--noojee-schedule <cron>', 'NOOJEE_SCHEDULE (NCRONTAB, six fields)', '0 * * * * *')
    .addOption(
      new Option('--archive <mode>', 'ARCHIVE_MODE (best-effort writes what strict does)')
        .choices(['strict', 'best-effort', 'off'])
        .default('strict'),
    )
    .option('--consume <on|off>', "count the consumer's get + delete per message", onOff, DEFAULT_DEPLOYMENT.consume)
    .option(
      '--archive-blocks-per-event <n>',
      'Append Block calls per event (1: every event appended alone)',
      number('--archive-blocks-per-event', 0, 10),
      1,
    )
    .addOption(
      new Option('--minimum-per <what>', 'the 1-s minimum per activity period (overlaps share it) or per execution (upper bound)')
        .choices(['period', 'execution'])
        .default(DEFAULT_DEPLOYMENT.minimumPer),
    )
    .option(
      '--telemetry-bytes-per-event <bytes>',
      'Application Insights bytes ingested per event (default: measured, bench --only telemetry)',
      number('--telemetry-bytes-per-event', 0),
    )
    .option(
      '--telemetry-bytes-per-run <bytes>',
      'Application Insights bytes ingested per idle timer run (default: measured)',
      number('--telemetry-bytes-per-run', 0),
    )
    .option('--from-bench <file>', 'bench result to take the measured figures from (default: the newest bench/results/*.json)')
    .option('--built-in', 'use the built-in measured figures (docs/cost.md), not a bench result')
    .option('--json', 'print the estimate as JSON')
    .option('--table', "print docs/cost.md's generated table (built-in figures unless --from-bench)")
    .option('--write', 'with --table: write it into docs/cost.md');
  for (const [id, flag] of PRICE_FLAGS)
    cmd.option(
      `${flag} <${id.startsWith('free') ? 'amount' : 'usd'}>`,
      id.startsWith('free')
        ? `${PRICES[id].item}, in ${PRICES[id].unit}`
        : `${PRICES[id].item}, USD per ${PRICES[id].per} ${PRICES[id].unit}`,
      number(flag, 0),
    );
  return cmd;
}

export function run(argv: string[], write: (s: string) => void = (s) => process.stdout.write(s)): void {
  const cmd = program().exitOverride();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const prices: PriceTable = { ...PRICES };
  for (const [id, flag] of PRICE_FLAGS) {
    const v = o[flagKey(flag)];
    if (typeof v === 'number') prices[id] = { ...prices[id], value: v, assumption: 'entered', source: `${flag} (entered)` };
  }
  const benchFile = typeof o.fromBench === 'string' ? o.fromBench : undefined;
  if (o.table) {
    const measured = benchFile ? readBench(benchFile) : BUILT_IN_MEASURED;
    const rendered = renderCostTable(measured, prices);
    if (o.write) {
      writeFileSync(COST_DOC, withCostTable(readFileSync(COST_DOC, 'utf8'), rendered));
      write(`docs/cost.md: table written\n`);
    } else write(`${rendered}\n`);
    return;
  }
  if (typeof o.eventsPerDay !== 'number') throw new InvalidArgumentError('--events-per-day <n> is required (or --table)');
  const newest = o.builtIn ? undefined : (benchFile ?? newestBenchFile(join(ROOT, 'bench', 'results')));
  const measured = newest ? readBench(newest) : BUILT_IN_MEASURED;
  const deployment: Deployment = {
    ...DEFAULT_DEPLOYMENT,
    eventsPerDay: o.eventsPerDay,
    memoryMb: Number(o.memory) as InstanceMemoryMb,
    noojee: o.noojee as boolean,
    noojeeIntervalSeconds: scheduleIntervalSeconds(o.noojeeSchedule as string),
    noojeeRunSeconds: o.noojeePollSeconds as number,
    archive: o.archive === 'off' ? 'off' : 'strict',
    consume: o.consume as boolean,
    archiveBlocksPerEvent: o.archiveBlocksPerEvent as number,
    minimumPer: o.minimumPer === 'execution' ? 'execution' : 'period',
    ...(typeof o.telemetryBytesPerEvent === 'number' ? { telemetryBytesPerEvent: o.telemetryBytesPerEvent } : {}),
    ...(typeof o.telemetryBytesPerRun === 'number' ? { telemetryBytesPerTimerRun: o.telemetryBytesPerRun } : {}),
  };
  const e = estimate(deployment, measured, prices);
  if (o.json) write(`${JSON.stringify({ ...e, prices }, null, 2)}\n`);
  else write(`${formatEstimate(e, prices)}\n`);
}

if (require.main === module) {
  try {
    run(process.argv.slice(2));
  } catch (err) {
    const code = (err as { code?: string; exitCode?: number }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exit(0);
    if (typeof code === 'string' && code.startsWith('commander.')) process.exit((err as { exitCode?: number }).exitCode ?? 2);
    process.stderr.write(`cost: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}
