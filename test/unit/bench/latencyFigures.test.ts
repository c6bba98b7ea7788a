/** The event-latency figures of the benchmark: from each 200 to the first consumer start of the same event. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figures, readStarts } from '../../../bench/latencyBench';

test('percentiles over the consumed events; a second start is a duplicate, no start is missing, a refused request is neither', () => {
  const sent = Array.from({ length: 100 }, (_, i) => ({ id: `e${i}`, status: 200, answeredAt: 1000 }));
  sent.push({ id: 'refused', status: 503, answeredAt: 1000 });
  const starts = new Map<string, number[]>();
  // Latencies 1..99 ms for e0..e98; e99 never started; e5 started twice (the first start counts).
  for (let i = 0; i < 99; i++) starts.set(`e${i}`, [1000 + i + 1]);
  starts.set('e5', [1006, 1500]);
  expect(figures(sent, starts)).toEqual({
    sent: 101,
    accepted: 100,
    statusCodes: { 200: 100, 503: 1 },
    consumed: 99,
    missing: 1,
    duplicates: 1,
    p50Ms: 50,
    p90Ms: 90,
    p99Ms: 99,
    maxMs: 99,
    minMs: 1,
  });
});

test('a consumer that starts before the 200 is read gives a negative latency, reported as it is', () => {
  const f = figures([{ id: 'a', status: 200, answeredAt: 2000.3 }], new Map([['a', [1999.5]]]));
  expect(f).toMatchObject({ consumed: 1, minMs: -0.8, maxMs: -0.8 });
});

test("the consumer's start lines are read per CloudEvent id", () => {
  const file = join(mkdtempSync(join(tmpdir(), 'latency-')), 'starts.txt');
  writeFileSync(file, 'bench-00000001:0 1700000000000.125 1\nbench-00000001:0 1700000000100.500 2\nbench-00000002:0 1700000000001.000 1\n');
  expect([...readStarts(file)]).toEqual([
    ['bench-00000001:0', [1700000000000.125, 1700000000100.5]],
    ['bench-00000002:0', [1700000000001]],
  ]);
});
