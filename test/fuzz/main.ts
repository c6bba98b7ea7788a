#!/usr/bin/env node
/**
 * `npm run fuzz`: the host fuzz (test/fuzz/hostFuzz.ts) at full length, outside the default suite.
 *   node dist/test/fuzz/main.js [--requests 10000] [--concurrency 16] [--seed <n>]
 * Prints requests, the status histogram (overall and per family), 5xx other than 503, invalid and
 * missing queue messages, and host RSS before/after. Exit code 1 when any of them is wrong.
 */
import { parseArgs } from 'node:util';
import { formatFuzzResult, fuzzProblems, runHostFuzz } from './hostFuzz';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '16' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    },
  });
  const requests = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const seed = Number(values.seed);
  if (![requests, concurrency, seed].every((n) => Number.isInteger(n) && n > 0))
    throw new Error('--requests, --concurrency and --seed must be positive integers');
  process.stdout.write(`host fuzz: ${requests} requests, concurrency ${concurrency}, seed ${seed}\n`);
  const result = await runHostFuzz({ requests, concurrency, seed, log: (line) => process.stdout.write(`${line}\n`) });
  for (const line of formatFuzzResult(result)) process.stdout.write(`${line}\n`);
  const problems = fuzzProblems(result);
  process.stdout.write(problems.length ? `FAILED: ${problems.join('; ')}\n` : 'OK\n');
  process.exit(problems.length ? 1 : 0);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
