/**
 * Lets a host end running callEvents long-polls early on shutdown (a run otherwise lasts up to
 * NOOJEE_RUN_SECONDS). Import-free, so hosts can load it at no cost:
 *   Azure:      app.hook.appTerminate(() => stopCallEventRuns())   (in functions/index.ts)
 *   local host: stopCallEventRuns() before waiting for running timers.
 * A stopped run finishes its current step (events enqueued before the cursor moves) and returns.
 */
const active = new Set<AbortController>();

export interface RunHandle {
  signal: AbortSignal;
  end(): void;
}

export function beginCallEventRun(): RunHandle {
  const controller = new AbortController();
  active.add(controller);
  return { signal: controller.signal, end: () => active.delete(controller) };
}

/** Aborts every running callEvents run; returns how many were running. */
export function stopCallEventRuns(): number {
  const n = active.size;
  for (const c of active) c.abort();
  active.clear();
  return n;
}
