/**
 * The monthly cost model of the bridge on Flex Consumption (on-demand billing), as pure functions.
 * `npm run cost` (cost/main.ts) feeds it the prices below, the figures a bench run measured and the
 * deployment's settings; docs/cost.md explains every assumption and source.
 *
 * Billing facts (Microsoft Learn, flex-consumption-plan, "Billing"): on demand, an instance is billed its
 * provisioned memory (instanceMemoryMB) for the time it is actively executing functions (GB-s), plus
 * the number of executions; the minimum billable execution period is 1,000 ms, past that rounded up
 * to 100 ms. Functions other than the HTTP group scale individually, each on its own instances, so
 * each timer is billed on its own.
 */

/** Hours in a billing month: the 730-hour month of Azure's pricing calculator. */
export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
export const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;
/** Minimum billable execution period, then rounded up to this step (flex-consumption-plan, Billing). */
export const MIN_BILLED_SECONDS = 1;
export const BILLING_STEP_SECONDS = 0.1;
/** instanceMemoryMB values the infra allows (infra/main.bicep `@allowed`). */
export const INSTANCE_MEMORY_MB = [512, 2048, 4096] as const;
export type InstanceMemoryMb = (typeof INSTANCE_MEMORY_MB)[number];

export type PriceId =
  | 'executionGbSecond'
  | 'executionsPerMillion'
  | 'freeGbSeconds'
  | 'freeExecutions'
  | 'queueOperations'
  | 'blobWrites'
  | 'blobReads'
  | 'blobCapacity'
  | 'ingestionGb';

export interface Price {
  /** What is priced, as on an invoice. */
  item: string;
  /** USD per `per` units of `unit` (for a free grant: the amount, in `unit`); null: not found in the sources, the user enters it. */
  value: number | null;
  per: number;
  unit: string;
  /** Region, tier and redundancy the figure is for. */
  assumption: string;
  source: string;
  /** When the source was read (YYYY-MM-DD). */
  read: string;
  /** The CLI flag that overrides it. */
  flag: string;
}

const NOT_FOUND = 'not found in the stored sources: enter your own';
const PRICING_FUNCTIONS = 'where to look: https://azure.microsoft.com/pricing/details/functions/';
const PRICING_STORAGE = 'where to look: https://azure.microsoft.com/pricing/details/storage/queues/';
const PRICING_BLOBS = 'where to look: https://azure.microsoft.com/pricing/details/storage/blobs/';
const PRICING_MONITOR = 'where to look: https://azure.microsoft.com/pricing/details/monitor/';

/**
 * The price table. Only what a stored source states has a value; the rest is an explicit input.
 * Free grants default to none (an upper bound): enter your subscription's grant.
 */
export const PRICES: Record<PriceId, Price> = {
  executionGbSecond: {
    item: 'Flex Consumption on-demand execution time',
    value: 0.000026,
    per: 1,
    unit: 'GB-s',
    assumption: 'East US, pay-as-you-go (third-party figure: confirm on the pricing page)',
    source:
      'https://modal.com/blog/azure-function-pricing-guide (2025-05-22; the stored copy of the Microsoft pricing page shows no figures)',
    read: '2026-12-05',
    flag: '--price-gb-s',
  },
  executionsPerMillion: {
    item: 'Flex Consumption on-demand executions',
    value: null,
    per: 1_000_000,
    unit: 'executions',
    assumption: NOT_FOUND,
    source: PRICING_FUNCTIONS,
    read: '2026-12-05',
    flag: '--price-executions',
  },
  freeGbSeconds: {
    item: 'on-demand free grant, execution time (per month)',
    value: null,
    per: 1,
    unit: 'GB-s',
    assumption: `${NOT_FOUND} (a free grant exists: flex-consumption-plan, Billing); counted as 0`,
    source: PRICING_FUNCTIONS,
    read: '2026-12-05',
    flag: '--free-gb-s',
  },
  freeExecutions: {
    item: 'on-demand free grant, executions (per month)',
    value: null,
    per: 1,
    unit: 'executions',
    assumption: `${NOT_FOUND} (a free grant exists: flex-consumption-plan, Billing); counted as 0`,
    source: PRICING_FUNCTIONS,
    read: '2026-12-05',
    flag: '--free-executions',
  },
  queueOperations: {
    item: 'Queue Storage operations (put, get, delete)',
    value: null,
    per: 10_000,
    unit: 'operations',
    assumption: `${NOT_FOUND} (the page prices operation classes; enter the higher to stay on the safe side)`,
    source: PRICING_STORAGE,
    read: '2026-12-05',
    flag: '--price-queue-ops',
  },
  blobWrites: {
    item: 'Blob Storage write operations (Append Block, Put Blob; hot tier)',
    value: null,
    per: 10_000,
    unit: 'operations',
    assumption: NOT_FOUND,
    source: PRICING_BLOBS,
    read: '2026-12-05',
    flag: '--price-blob-writes',
  },
  blobReads: {
    item: 'Blob Storage read operations (Get Blob; hot tier)',
    value: null,
    per: 10_000,
    unit: 'operations',
    assumption: NOT_FOUND,
    source: PRICING_BLOBS,
    read: '2026-12-05',
    flag: '--price-blob-reads',
  },
  blobCapacity: {
    item: 'Blob Storage capacity (hot tier, LRS)',
    value: null,
    per: 1,
    unit: 'GB-month',
    assumption: NOT_FOUND,
    source: PRICING_BLOBS,
    read: '2026-12-05',
    flag: '--price-blob-gb-month',
  },
  ingestionGb: {
    item: 'Application Insights (Log Analytics) data ingestion',
    value: null,
    per: 1,
    unit: 'GB',
    assumption: `${NOT_FOUND} (billed per GB of ingested data: docs.microsoft.com azure-monitor/app/pricing)`,
    source: PRICING_MONITOR,
    read: '2026-12-05',
    flag: '--price-ingestion-gb',
  },
};

/** The figures a bench run measured (bench/results/*.json), or the built-in ones below. */
export interface Measured {
  /** Where the figures come from. */
  from: string;
  /** Webhook execution time per invocation, ms (the bench's p50 under load: an upper bound of one invocation alone). */
  webhookExecutionMs: number;
  /** Queue messages per webhook event (the bench's queued ÷ 2xx). */
  messagesPerEvent: number;
  /** Bytes of one queue message (base64). */
  messageBytes: number;
  /** Archive blob bytes per event (ARCHIVE_MODE=strict). */
  archiveBytesPerEvent: number;
  /** Append Block calls per archived event under the bench's load (C=32); alone, an event is one call. */
  archiveBlocksPerEventUnderLoad: number;
  /** Peak RSS of the local host (worker + our host) under the webhook load, MiB, telemetry off. */
  hostPeakRssMib: number;
  /** Telemetry on (bench `--only telemetry`): Application Insights bytes (uncompressed JSON) per webhook event. */
  telemetryBytesPerEvent: number;
  /** The same per timer run that has nothing to do (its log line). */
  telemetryBytesPerTimerRun: number;
  /** Metric series exported once a minute by a live instance, bytes per export. */
  metricBytesPerExport: number;
  /** Peak RSS of the local host under the webhook load with telemetry on, MiB. */
  hostPeakRssTelemetryMib: number;
}

/**
 * Built-in figures: `npm run bench -- --only webhook,archive,telemetry --duration 8 --warmup 2 --rounds 2`,
 * 2026-12-05 on the shared 2-core development machine (docs/cost.md). They only matter through what the
 * model does with them: execution time only above the 1-s minimum, messages and bytes linearly.
 */
export const BUILT_IN_MEASURED: Measured = {
  from: 'built-in: bench run 2026-12-05T15:27:26Z (docs/cost.md)',
  webhookExecutionMs: 25,
  messagesPerEvent: 1,
  messageBytes: 444,
  archiveBytesPerEvent: 654,
  archiveBlocksPerEventUnderLoad: 0.141,
  hostPeakRssMib: 261,
  telemetryBytesPerEvent: 6406,
  telemetryBytesPerTimerRun: 481,
  metricBytesPerExport: 2480,
  hostPeakRssTelemetryMib: 318,
};

/** The deployment being priced. */
export interface Deployment {
  eventsPerDay: number;
  memoryMb: InstanceMemoryMb;
  /** Noojee configured (the callEvents timer long-polls); off: the timer still fires and returns at once. */
  noojee: boolean;
  /** Seconds between two callEvents runs (NOOJEE_SCHEDULE; shipped `0 * * * * *`, 60). */
  noojeeIntervalSeconds: number;
  /** How long one run long-polls (NOOJEE_RUN_SECONDS; shipped 50). */
  noojeeRunSeconds: number;
  /** notificationsDrain and poisonMonitor intervals (shipped every minute and every 5 minutes). */
  drainIntervalSeconds: number;
  poisonMonitorIntervalSeconds: number;
  archive: 'strict' | 'off';
  /** Count a consumer's get + delete per message (the queue's read side, whoever runs it). */
  consume: boolean;
  /** Append Block calls per archived event (1 at low rates: every event is appended alone). */
  archiveBlocksPerEvent: number;
  /**
   * How the 1-s minimum applies to webhook executions (Microsoft does not say): `period` (default) the meter
   * stays on for max(execution, 1 s) and overlapping executions share it; `execution` every execution is
   * billed its own max(execution, 1 s), overlapping or not (the upper bound).
   */
  minimumPer: 'period' | 'execution';
  /** Application Insights bytes per event and per timer run; undefined: the measured figures. */
  telemetryBytesPerEvent?: number;
  telemetryBytesPerTimerRun?: number;
}

export const DEFAULT_DEPLOYMENT: Omit<Deployment, 'eventsPerDay'> = {
  memoryMb: 2048,
  noojee: true,
  noojeeIntervalSeconds: 60,
  noojeeRunSeconds: 50,
  drainIntervalSeconds: 60,
  poisonMonitorIntervalSeconds: 300,
  archive: 'strict',
  consume: true,
  archiveBlocksPerEvent: 1,
  minimumPer: 'period',
};

/** One execution's billed seconds: at least 1 s, then rounded up to 100 ms. */
export function billedSeconds(executionSeconds: number): number {
  const steps = Math.ceil(executionSeconds / BILLING_STEP_SECONDS - 1e-9);
  return Math.max(MIN_BILLED_SECONDS, steps * BILLING_STEP_SECONDS);
}

/**
 * Share of the month an HTTP instance is billed, for events arriving at random (Poisson) at `perSecond`,
 * each holding the meter for `heldSeconds` (its billed period, at least 1 s). Executions overlapping on one
 * instance are billed once (concurrency in one process), so the meter runs while at least one is held:
 * P(busy) = 1 − e^(−λ·D) (M/D/∞). At low rates this is λ·D (each event billed 1 s), at high rates it tends
 * to 1 (one instance executing the whole month).
 */
export function busyShare(perSecond: number, heldSeconds: number): number {
  if (perSecond <= 0) return 0;
  return 1 - Math.exp(-perSecond * heldSeconds);
}

/** A timer's billed seconds per month: runs per month × each run's billed period (overlap capped at the month). */
export function timerBilledSecondsPerMonth(intervalSeconds: number, runSeconds: number): number {
  const runs = SECONDS_PER_MONTH / intervalSeconds;
  return Math.min(SECONDS_PER_MONTH, runs * billedSeconds(runSeconds));
}

/** Latency a Noojee call event gains from the gaps between runs, for events arriving uniformly. */
export function noojeeGapLatency(intervalSeconds: number, runSeconds: number): { worstSeconds: number; meanSeconds: number } {
  const gap = Math.max(0, intervalSeconds - runSeconds);
  return { worstSeconds: gap, meanSeconds: (gap * gap) / (2 * intervalSeconds) };
}

export interface Line {
  name: string;
  quantity: number;
  unit: string;
  price: PriceId;
  /** USD, or null when the price is not known. */
  usd: number | null;
  /** How the quantity was obtained. */
  basis: string;
}

export interface Estimate {
  deployment: Deployment;
  measured: Measured;
  lines: Line[];
  /** Sum of the lines with a price. */
  pricedUsd: number;
  /** Lines left out of pricedUsd (no price entered). */
  unpriced: string[];
  /** The parts of the compute figure: billed instance-seconds per month. */
  billedSeconds: { webhook: number; noojee: number; otherTimers: number };
}

export type PriceTable = Record<PriceId, Price>;

function priced(prices: PriceTable, id: PriceId, quantity: number): number | null {
  const p = prices[id];
  return p.value === null ? null : (quantity / p.per) * p.value;
}

/** The monthly estimate. Pure: the same inputs give the same lines. */
export function estimate(deployment: Deployment, measured: Measured, prices: PriceTable = PRICES): Estimate {
  const d = deployment;
  const gb = d.memoryMb / 1024;
  const eventsPerMonth = d.eventsPerDay * DAYS_PER_MONTH;
  const perSecond = d.eventsPerDay / 86_400;
  const held = billedSeconds(measured.webhookExecutionMs / 1000);
  const webhookSeconds = d.minimumPer === 'execution' ? eventsPerMonth * held : SECONDS_PER_MONTH * busyShare(perSecond, held);
  const noojeeSeconds = timerBilledSecondsPerMonth(d.noojeeIntervalSeconds, d.noojee ? d.noojeeRunSeconds : 0);
  const otherTimerSeconds =
    timerBilledSecondsPerMonth(d.drainIntervalSeconds, 0) + timerBilledSecondsPerMonth(d.poisonMonitorIntervalSeconds, 0);
  const gbSeconds = (webhookSeconds + noojeeSeconds + otherTimerSeconds) * gb;
  const freeGbSeconds = prices.freeGbSeconds.value ?? 0;
  const billableGbSeconds = Math.max(0, gbSeconds - freeGbSeconds);

  const timerRuns =
    SECONDS_PER_MONTH / d.noojeeIntervalSeconds +
    SECONDS_PER_MONTH / d.drainIntervalSeconds +
    SECONDS_PER_MONTH / d.poisonMonitorIntervalSeconds;
  const executions = eventsPerMonth + timerRuns;
  const billableExecutions = Math.max(0, executions - (prices.freeExecutions.value ?? 0));

  const messages = eventsPerMonth * measured.messagesPerEvent;
  const queueOps = messages * (d.consume ? 3 : 1);
  const archiveOn = d.archive === 'strict';
  // One append blob per source, hour and instance: a Put Blob (create) for each hour with at least one event.
  const archiveCreates = archiveOn ? HOURS_PER_MONTH * (1 - Math.exp(-perSecond * 3600)) : 0;
  const blobWrites = archiveOn ? eventsPerMonth * d.archiveBlocksPerEvent + archiveCreates : 0;
  // Noojee: each run loads its cursor (a blob read); a write only when events move it.
  const blobReads = d.noojee ? SECONDS_PER_MONTH / d.noojeeIntervalSeconds : 0;
  const archiveGbAdded = archiveOn ? (eventsPerMonth * measured.archiveBytesPerEvent) / 1e9 : 0;
  const bytesPerEvent = d.telemetryBytesPerEvent ?? measured.telemetryBytesPerEvent;
  const bytesPerRun = d.telemetryBytesPerTimerRun ?? measured.telemetryBytesPerTimerRun;
  // Metrics: one export a minute per live instance, counted for the minutes the webhook and Noojee instances execute
  // (a lower bound: an instance lives on a while after its last execution).
  const metricExports = (webhookSeconds + (d.noojee ? noojeeSeconds : 0)) / 60;
  const ingestionGb = (eventsPerMonth * bytesPerEvent + timerRuns * bytesPerRun + metricExports * measured.metricBytesPerExport) / 1e9;

  const lines: Line[] = [
    {
      name: 'execution time',
      quantity: billableGbSeconds,
      unit: 'GB-s',
      price: 'executionGbSecond',
      usd: priced(prices, 'executionGbSecond', billableGbSeconds),
      basis: `${round(webhookSeconds)} s webhook + ${round(noojeeSeconds)} s callEvents + ${round(otherTimerSeconds)} s other timers, × ${gb} GB${freeGbSeconds ? ` − ${freeGbSeconds} free` : ''}`,
    },
    {
      name: 'executions',
      quantity: billableExecutions,
      unit: 'executions',
      price: 'executionsPerMillion',
      usd: priced(prices, 'executionsPerMillion', billableExecutions),
      basis: `${round(eventsPerMonth)} webhook + ${round(timerRuns)} timer runs`,
    },
    {
      name: 'queue operations',
      quantity: queueOps,
      unit: 'operations',
      price: 'queueOperations',
      usd: priced(prices, 'queueOperations', queueOps),
      basis: `${round(messages)} messages × (put${d.consume ? ' + get + delete' : ''})`,
    },
    {
      name: 'blob writes (archive)',
      quantity: blobWrites,
      unit: 'operations',
      price: 'blobWrites',
      usd: priced(prices, 'blobWrites', blobWrites),
      basis: archiveOn ? `${d.archiveBlocksPerEvent} Append Block per event + ${round(archiveCreates)} hourly blobs` : 'archive off',
    },
    {
      name: 'blob reads (Noojee cursor)',
      quantity: blobReads,
      unit: 'operations',
      price: 'blobReads',
      usd: priced(prices, 'blobReads', blobReads),
      basis: d.noojee ? 'one cursor read per callEvents run' : 'Noojee off',
    },
    {
      name: 'archive data added',
      quantity: archiveGbAdded,
      unit: 'GB-month',
      price: 'blobCapacity',
      usd: priced(prices, 'blobCapacity', archiveGbAdded),
      basis: archiveOn ? `${measured.archiveBytesPerEvent} B per event, kept a month (grows with retention)` : 'archive off',
    },
    {
      name: 'App Insights ingestion',
      quantity: ingestionGb,
      unit: 'GB',
      price: 'ingestionGb',
      usd: priced(prices, 'ingestionGb', ingestionGb),
      basis: `${bytesPerEvent} B per event + ${bytesPerRun} B per timer run + ${round(metricExports)} metric exports × ${measured.metricBytesPerExport} B`,
    },
  ];
  const pricedUsd = lines.reduce((sum, l) => sum + (l.usd ?? 0), 0);
  return {
    deployment: d,
    measured,
    lines,
    pricedUsd,
    unpriced: lines.filter((l) => l.usd === null).map((l) => l.name),
    billedSeconds: { webhook: webhookSeconds, noojee: noojeeSeconds, otherTimers: otherTimerSeconds },
  };
}

function round(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Cheaper Noojee configurations: the callEvents compute per month and the latency the gaps add. */
export interface NoojeeOption {
  schedule: string;
  intervalSeconds: number;
  runSeconds: number;
  busyShare: number;
  gbSecondsPerMonth: number;
  usdPerMonth: number | null;
  worstLatencySeconds: number;
  meanLatencySeconds: number;
}

export const NOOJEE_OPTIONS: readonly { schedule: string; intervalSeconds: number; runSeconds: number }[] = [
  { schedule: '0 * * * * *', intervalSeconds: 60, runSeconds: 50 },
  { schedule: '0 * * * * *', intervalSeconds: 60, runSeconds: 30 },
  { schedule: '0 */2 * * * *', intervalSeconds: 120, runSeconds: 50 },
  { schedule: '0 */5 * * * *', intervalSeconds: 300, runSeconds: 50 },
  { schedule: '0 */15 * * * *', intervalSeconds: 900, runSeconds: 50 },
];

export function noojeeOptions(memoryMb: InstanceMemoryMb, prices: PriceTable = PRICES): NoojeeOption[] {
  return NOOJEE_OPTIONS.map((o) => {
    const seconds = timerBilledSecondsPerMonth(o.intervalSeconds, o.runSeconds);
    const gbs = (seconds * memoryMb) / 1024;
    const latency = noojeeGapLatency(o.intervalSeconds, o.runSeconds);
    return {
      ...o,
      busyShare: seconds / SECONDS_PER_MONTH,
      gbSecondsPerMonth: gbs,
      usdPerMonth: priced(prices, 'executionGbSecond', gbs),
      worstLatencySeconds: latency.worstSeconds,
      meanLatencySeconds: latency.meanSeconds,
    };
  });
}
