/**
 * One app-wide "the host is shutting down" signal, so long-running invocations (the Noojee long-poll,
 * the v2 drain) can end early and cleanly instead of holding up a stop:
 * - Azure: `functions/index.ts` calls `requestShutdown()` from `app.hook.appTerminate`.
 * - Local host: `stop()` runs the app's appTerminate hooks, as the worker does, before waiting for
 *   running invocations.
 * Import-free, so loading it costs nothing at cold start.
 */
const controller = new AbortController();

export function shutdownSignal(): AbortSignal {
  return controller.signal;
}

export function requestShutdown(): void {
  controller.abort();
}
