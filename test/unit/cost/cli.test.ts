import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measuredFromBench, newestBenchFile } from '../../../cost/bench';
import { COST_DOC, run, scheduleIntervalSeconds } from '../../../cost/main';
import { BUILT_IN_MEASURED } from '../../../cost/model';
import { renderCostTable, TABLE_END, TABLE_START, withCostTable } from '../../../cost/report';

const output = (argv: string[]) => {
  let out = '';
  run(argv, (s) => (out += s));
  return out;
};

describe('npm run cost', () => {
  test('NCRONTAB schedules become the seconds between runs', () => {
    expect(scheduleIntervalSeconds('0 * * * * *')).toBe(60);
    expect(scheduleIntervalSeconds('0 */5 * * * *')).toBe(300);
    // 9:00 to 17:00 on weekdays: 9 runs a day × 5 days = 45 runs a week.
    expect(scheduleIntervalSeconds('0 0 9-17 * * 1-5')).toBeCloseTo((7 * 86_400) / 45, 6);
    expect(() => scheduleIntervalSeconds('*/5 * * * *')).toThrow('six fields');
  });

  test('--json gives every line, and a price flag prices its line', () => {
    const plain = JSON.parse(output(['--events-per-day', '10000', '--built-in', '--json']));
    expect(plain.deployment).toMatchObject({ eventsPerDay: 10_000, memoryMb: 2048, noojee: true, noojeeIntervalSeconds: 60 });
    expect(plain.measured.from).toContain('built-in');
    expect(plain.unpriced).toContain('queue operations');
    const priced = JSON.parse(output(['--events-per-day', '10000', '--built-in', '--json', '--price-queue-ops', '0.004']));
    const queue = priced.lines.find((l: { name: string }) => l.name === 'queue operations');
    // 912,500 operations at $0.004 per 10,000 = $0.365.
    expect(queue.usd).toBeCloseTo(0.365, 3);
    expect(priced.unpriced).not.toContain('queue operations');
  });

  test('a shorter long-poll on a rarer schedule lowers the Noojee compute', () => {
    const shipped = JSON.parse(output(['--events-per-day', '0', '--built-in', '--json']));
    const lean = JSON.parse(
      output(['--events-per-day', '0', '--built-in', '--json', '--noojee-schedule', '0 */5 * * * *', '--noojee-poll-seconds', '30']),
    );
    expect(shipped.billedSeconds.noojee).toBeCloseTo(2_190_000, 3);
    // 8,760 runs × 30 s = 262,800 s.
    expect(lean.billedSeconds.noojee).toBeCloseTo(262_800, 3);
  });

  test('the text report names every price source and the Noojee options', () => {
    const text = output(['--events-per-day', '100000', '--memory', '512', '--noojee', 'off', '--built-in']);
    expect(text).toContain('instanceMemoryMB 512');
    expect(text).toContain('https://azure.microsoft.com/pricing/details/storage/queues/');
    expect(text).toContain('enter --price-executions');
    expect(text).toContain('| `0 */5 * * * *` | 50 |');
  });

  test('wrong input is refused with the reason', () => {
    expect(() => output(['--events-per-day', '-1'])).toThrow('--events-per-day must be a number');
    expect(() => output(['--events-per-day', '10', '--memory', '1024'])).toThrow();
    expect(() => output(['--noojee', 'maybe', '--events-per-day', '1'])).toThrow();
    expect(() => output([])).toThrow('--events-per-day <n> is required');
  });

  test('bench figures come from the newest result; parts it did not measure stay built-in', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cost-bench-'));
    try {
      expect(newestBenchFile(dir)).toBeUndefined();
      writeFileSync(join(dir, '2026-01-01T00-00-00-000Z.json'), '{}');
      writeFileSync(join(dir, '2026-02-01T00-00-00-000Z.json'), '{}');
      expect(newestBenchFile(dir)).toBe(join(dir, '2026-02-01T00-00-00-000Z.json'));
      const m = measuredFromBench(
        { webhook: { messageBytes: 500, webhook: { p50Ms: 12, allQueued: true, peakRssKb: 300 * 1024 } } } as never,
        'x.json',
      );
      expect(m).toMatchObject({ webhookExecutionMs: 12, messageBytes: 500, hostPeakRssMib: 300 });
      expect(m.archiveBytesPerEvent).toBe(BUILT_IN_MEASURED.archiveBytesPerEvent);
      expect(m.from).toContain('the rest built-in');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/cost.md', () => {
  test('its table is what `npm run cost -- --table` prints (else: npm run cost -- --table --write)', () => {
    const doc = readFileSync(COST_DOC, 'utf8');
    expect(doc).toContain(TABLE_START);
    expect(doc).toContain(TABLE_END);
    if (withCostTable(doc, renderCostTable()) !== doc)
      throw new Error('docs/cost.md differs from the cost model: run `npm run cost -- --table --write`');
    expect(output(['--table'])).toBe(`${renderCostTable()}\n`);
  });

  test('every table of the generated block has as many cells in each row as in its header', () => {
    const tables = renderCostTable()
      .split(/\n(?!\|)/)
      .map((block) => block.split('\n').filter((l) => l.startsWith('| ')))
      .filter((rows) => rows.length > 0);
    expect(tables.length).toBe(4);
    for (const rows of tables) {
      const cells = (row: string) => row.split(' | ').length;
      for (const row of rows) expect(cells(row)).toBe(cells(rows[0]));
    }
  });
});

describe('docs/cost.md examples', () => {
  /** `npm run cost -- a 'b c'` → ['a', 'b c'] (the quoting the page uses). */
  const words = (line: string) => [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);

  test('every `npm run cost --` line of the page runs as written', () => {
    const doc = readFileSync(COST_DOC, 'utf8');
    const lines = doc.split('\n').filter((l) => l.startsWith('npm run cost -- '));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) {
      const out = output(words(line.slice('npm run cost -- '.length)));
      expect(out.length).toBeGreaterThan(100);
    }
  });
});
