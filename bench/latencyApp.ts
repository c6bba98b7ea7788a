/**
 * The entry point the latency benchmark's host loads: the shipped app (this project's package.json
 * `main`, so every function is the one that ships) and one bench-only consumer, a queue trigger on
 * `%LATENCY_BENCH_QUEUE%` that appends "<CloudEvent id> <time its handler started (ms since the epoch,
 * µs resolution)> <dequeueCount>" to `LATENCY_BENCH_FILE` and does nothing else.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { app, type InvocationContext } from '@azure/functions';
import { projectRoot } from './processes';

const root = projectRoot();
const main = (JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { main: string }).main;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loads the shipped app as the worker does
require(resolve(root, main));

const file = process.env.LATENCY_BENCH_FILE;
if (!file) throw new Error('LATENCY_BENCH_FILE is not set: the latency benchmark sets it');

app.storageQueue('benchLatencyConsumer', {
  queueName: '%LATENCY_BENCH_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: (message: unknown, context: InvocationContext) => {
    const startedAt = performance.timeOrigin + performance.now();
    const id = (message as { id?: unknown } | null)?.id;
    appendFileSync(file, `${String(id)} ${startedAt.toFixed(3)} ${String(context.triggerMetadata?.dequeueCount)}\n`);
  },
});
