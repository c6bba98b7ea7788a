/**
 * Test hooks: environment variables that only the crash tests set. They are not settings (not in the
 * zod schema, the README or the Bicep): a deployment never needs them.
 */

/** `TEST_HOOK_PAUSE_AFTER_JOURNAL_MS`: the v2 drain waits this long after journaling a page (0 = off, at most 10 min). */
export function pauseAfterJournalMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.TEST_HOOK_PAUSE_AFTER_JOURNAL_MS ?? 0);
  return Number.isInteger(value) && value > 0 ? Math.min(value, 600_000) : 0;
}
