/**
 * The cost model against figures worked out by hand (a 730-hour month = 2,628,000 s; 60 runs an hour of
 * a every-minute timer = 43,800 runs; every 5 minutes = 8,760 runs).
 */
import {
  billedSeconds,
  BUILT_IN_MEASURED,
  busyShare,
  DEFAULT_DEPLOYMENT,
  estimate,
  noojeeGapLatency,
  noojeeOptions,
  PRICES,
  type Deployment,
  type Measured,
} from '../../../cost/model';

const measured: Measured = { ...BUILT_IN_MEASURED, webhookExecutionMs: 50, messagesPerEvent: 1, archiveBytesPerEvent: 1000 };
const deployment = (over: Partial<Deployment>): Deployment => ({ ...DEFAULT_DEPLOYMENT, eventsPerDay: 0, ...over });
const line = (e: ReturnType<typeof estimate>, name: string) => {
  const l = e.lines.find((x) => x.name === name);
  if (!l) throw new Error(`no line ${name}`);
  return l;
};

describe('Flex Consumption billing rules', () => {
  test('an execution is billed at least 1 s, then in steps of 100 ms', () => {
    expect(billedSeconds(0)).toBe(1);
    expect(billedSeconds(0.05)).toBe(1);
    expect(billedSeconds(1)).toBeCloseTo(1, 9);
    expect(billedSeconds(1.01)).toBeCloseTo(1.1, 9);
    expect(billedSeconds(50)).toBeCloseTo(50, 9);
    expect(billedSeconds(50.01)).toBeCloseTo(50.1, 9);
  });

  test('rare events are billed 1 s each; a saturated instance never more than the month', () => {
    expect(busyShare(0, 1)).toBe(0);
    // 864 events a day = 0.01 per second: 26,280 events a month, almost never overlapping.
    const rare = estimate(deployment({ eventsPerDay: 864, noojee: false }), measured);
    expect(rare.billedSeconds.webhook).toBeGreaterThan(26_280 * 0.99);
    expect(rare.billedSeconds.webhook).toBeLessThan(26_280);
    // 100 million a day: the HTTP instance executes all month, 2,628,000 s, and not a second more.
    const flood = estimate(deployment({ eventsPerDay: 100_000_000, noojee: false }), measured);
    expect(flood.billedSeconds.webhook).toBeCloseTo(2_628_000, 0);
  });

  test('with the minimum counted per execution, every event is billed its second, overlapping or not', () => {
    // 1,000,000 a day: 30,416,667 events × 1 s, more than the month's 2,628,000 s of one instance.
    const e = estimate(deployment({ eventsPerDay: 1_000_000, noojee: false, minimumPer: 'execution' }), measured);
    expect(e.billedSeconds.webhook).toBeCloseTo(30_416_666.67, 0);
  });

  test('an execution longer than the minimum is billed its own length', () => {
    const slow = estimate(deployment({ eventsPerDay: 864, noojee: false }), { ...measured, webhookExecutionMs: 2_500 });
    expect(slow.billedSeconds.webhook).toBeGreaterThan(26_280 * 2.5 * 0.97);
    expect(slow.billedSeconds.webhook).toBeLessThan(26_280 * 2.5);
  });
});

describe('the monthly estimate', () => {
  test('idle with Noojee on at 2048 MB: the long-poll is the bill', () => {
    const e = estimate(deployment({ noojee: true, memoryMb: 2048 }), measured);
    // callEvents 50 s of every 60 s: 2,628,000 × 50/60 = 2,190,000 s; notificationsDrain 43,800 × 1 s; poisonMonitor 8,760 × 1 s.
    expect(e.billedSeconds.noojee).toBeCloseTo(2_190_000, 3);
    expect(e.billedSeconds.otherTimers).toBeCloseTo(52_560, 3);
    expect(e.billedSeconds.webhook).toBe(0);
    // (2,190,000 + 52,560) s × 2 GB = 4,485,120 GB-s, × $0.000026 = $116.61.
    expect(line(e, 'execution time').quantity).toBeCloseTo(4_485_120, 3);
    expect(line(e, 'execution time').usd).toBeCloseTo(116.61, 2);
    expect(line(e, 'executions').quantity).toBeCloseTo(43_800 * 2 + 8_760, 3);
    // Noojee loads its cursor once per run.
    expect(line(e, 'blob reads (Noojee cursor)').quantity).toBeCloseTo(43_800, 3);
  });

  test('idle with Noojee off at 512 MB: three timers at the 1-s minimum', () => {
    const e = estimate(deployment({ noojee: false, memoryMb: 512 }), measured);
    // (43,800 + 43,800 + 8,760) s × 0.5 GB = 48,180 GB-s = $1.25.
    expect(line(e, 'execution time').quantity).toBeCloseTo(48_180, 3);
    expect(line(e, 'execution time').usd).toBeCloseTo(1.25, 2);
    expect(line(e, 'blob reads (Noojee cursor)').quantity).toBe(0);
  });

  test('storage operations per event: put, get and delete; an Append Block with the archive', () => {
    // 10,000 a day × 30.4167 days = 304,166.7 events.
    const e = estimate(deployment({ eventsPerDay: 10_000 }), measured);
    expect(line(e, 'queue operations').quantity).toBeCloseTo(304_166.67 * 3, 0);
    // Every hour has events at this rate: 730 hourly blobs besides the appends.
    expect(line(e, 'blob writes (archive)').quantity).toBeCloseTo(304_166.67 + 730, 0);
    // 304,166.7 events × 1,000 B = 0.304 GB added.
    expect(line(e, 'archive data added').quantity).toBeCloseTo(0.304, 3);
    const lean = estimate(deployment({ eventsPerDay: 10_000, consume: false, archive: 'off' }), measured);
    expect(line(lean, 'queue operations').quantity).toBeCloseTo(304_166.67, 0);
    expect(line(lean, 'blob writes (archive)').quantity).toBe(0);
  });

  test('a price not in the sources leaves its line out of the total and says so; an entered one is used', () => {
    const e = estimate(deployment({ eventsPerDay: 10_000 }), measured);
    expect(line(e, 'executions').usd).toBeNull();
    expect(e.unpriced).toEqual(expect.arrayContaining(['executions', 'queue operations', 'App Insights ingestion']));
    expect(e.pricedUsd).toBeCloseTo(line(e, 'execution time').usd!, 9);
    const prices = {
      ...PRICES,
      executionsPerMillion: { ...PRICES.executionsPerMillion, value: 0.4 },
      freeExecutions: { ...PRICES.freeExecutions, value: 96_360 },
      freeGbSeconds: { ...PRICES.freeGbSeconds, value: 100_000 },
    };
    // Idle, Noojee off, 2048 MB: 96,360 timer runs, all inside the free executions; 192,720 − 100,000 GB-s billable.
    const idle = estimate(deployment({ noojee: false }), measured, prices);
    expect(line(idle, 'executions').quantity).toBe(0);
    expect(line(idle, 'executions').usd).toBe(0);
    expect(line(idle, 'execution time').quantity).toBeCloseTo(92_720, 3);
    // 1,000,000 a day: 30,416,667 webhook executions + 96,360 timer runs − 96,360 free, at $0.40 a million = $12.17.
    const busy = estimate(deployment({ eventsPerDay: 1_000_000 }), measured, prices);
    expect(line(busy, 'executions').usd).toBeCloseTo(12.17, 2);
  });

  test('ingestion: bytes per event and per timer run, plus a metric export a minute while instances execute', () => {
    const m: Measured = { ...measured, telemetryBytesPerEvent: 7_000, telemetryBytesPerTimerRun: 500, metricBytesPerExport: 6_000 };
    // Idle, Noojee off: 96,360 timer runs × 500 B = 0.04818 GB; no webhook or Noojee minutes, so no metric exports.
    const idle = estimate(deployment({ noojee: false }), m);
    expect(line(idle, 'App Insights ingestion').quantity).toBeCloseTo(0.04818, 5);
    // Idle, Noojee on: plus 2,190,000 s ÷ 60 = 36,500 exports × 6,000 B = 0.219 GB.
    const polling = estimate(deployment({ noojee: true }), m);
    expect(line(polling, 'App Insights ingestion').quantity).toBeCloseTo(0.04818 + 0.219, 5);
    // An entered figure wins: 10,000 a day × 3,000 B = 0.9125 GB, + the timer runs.
    const entered = estimate(
      deployment({ eventsPerDay: 10_000, noojee: false, telemetryBytesPerEvent: 3_000, telemetryBytesPerTimerRun: 0 }),
      m,
    );
    const webhookExports = (entered.billedSeconds.webhook / 60) * 6_000;
    expect(line(entered, 'App Insights ingestion').quantity).toBeCloseTo((304_166.67 * 3_000 + webhookExports) / 1e9, 4);
  });
});

describe('cheaper Noojee configurations', () => {
  test('a gap of G seconds every T delays an event by G at worst and G²/2T on average', () => {
    expect(noojeeGapLatency(60, 50)).toEqual({ worstSeconds: 10, meanSeconds: 100 / 120 });
    expect(noojeeGapLatency(300, 50)).toEqual({ worstSeconds: 250, meanSeconds: 62_500 / 600 });
    expect(noojeeGapLatency(60, 60).worstSeconds).toBe(0);
  });

  test('each option costs its busy share of the month; the shipped one is the most expensive', () => {
    const options = noojeeOptions(512);
    expect(options[0]).toMatchObject({ intervalSeconds: 60, runSeconds: 50 });
    // 50 s every 5 minutes: 1/6 of 2,628,000 s × 0.5 GB = 219,000 GB-s.
    const fiveMinutes = options.find((o) => o.intervalSeconds === 300)!;
    expect(fiveMinutes.gbSecondsPerMonth).toBeCloseTo(219_000, 3);
    for (const o of options.slice(1)) {
      expect(o.usdPerMonth!).toBeLessThan(options[0].usdPerMonth!);
      expect(o.worstLatencySeconds).toBeGreaterThan(options[0].worstLatencySeconds);
    }
  });
});
