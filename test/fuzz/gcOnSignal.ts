/**
 * Preloaded into the fuzzed host (`node --expose-gc --require dist/test/fuzz/gcOnSignal.js …`): on
 * SIGUSR2 it runs a full garbage collection and prints `[fuzz-gc <n>] heapUsed=<bytes> rss=<bytes>` on
 * stderr, so the fuzz can read the host's live heap after a GC (a leak slope) rather than its RSS,
 * which plateaus at whatever the allocator kept.
 */
let collections = 0;
process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  process.stderr.write(`[fuzz-gc ${++collections}] heapUsed=${heapUsed} rss=${rss}\n`);
});
