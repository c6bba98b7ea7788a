/**
 * One app-wide "the host is shutting down" signal, so long-running invocations (the Noojee long-poll,
 * the v2 drain) can end early and cleanly instead of holding up a stop:
 * - Azure: `functions/index.ts` calls `requestShutdown()` from `app.hook.appTerminate`.
 * - Local host: `stop()` calls it before waiting for running invocations; `startHost` resets it.
 * Import-free, so loading it costs nothing at cold start.
 */
let controller = new AbortController();

export function shutdownSignal(): AbortSignal {
  return controller.signal;
}

export function requestShutdown(): void {
  controller.abort();
}

/** A new host in the same process (tests) starts with a fresh signal. */
export function resetShutdown(): void {
  if (controller.signal.aborted) controller = new AbortController();
}
