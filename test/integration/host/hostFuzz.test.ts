/**
 * The host fuzz (test/fuzz/hostFuzz.ts) in the default suite, short: the body families (valid,
 * near-valid, garbage, deep nesting, huge arrays, duplicate keys, `__proto__` keys; Content-Length
 * and chunked) and malformed raw HTTP against the local host in its own process. `npm run fuzz`
 * runs the same with ≥ 10,000 requests.
 */
import { formatFuzzResult, fuzzProblems, runHostFuzz } from '../../fuzz/hostFuzz';

test('600 hostile and ordinary requests over HTTP: no 5xx but 503, no invalid or missing message, no heap growth between two equal batches', async () => {
  const result = await runHostFuzz({ requests: 600, concurrency: 8, seed: 1616, warmup: 100 });
  const report = formatFuzzResult(result).join('\n');
  expect({ problems: fuzzProblems(result), report }).toEqual({ problems: [], report });
  // The run reached every kind of answer it is meant to provoke.
  expect(result.statuses['200']).toBeGreaterThan(100);
  for (const status of ['400', '401', '408', '413', '415', '431'])
    expect([status, (result.statuses[status] ?? 0) > 0]).toEqual([status, true]);
  // A target with user info (which `new Request()` refuses) is a 400, as HTTP.sys answers, never a 500.
  expect(Object.keys(result.byFamily['raw:targetWithUserInfo'] ?? { none: 0 })).toEqual(['400']);
}, 240_000);
