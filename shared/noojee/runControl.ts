/**
 * Ends running callEvents long-polls early (a run otherwise lasts up to NOOJEE_RUN_SECONDS): on the
 * app-wide shutdown signal (`shared/shutdown.ts`, raised by either host when it stops) or by
 * `stopCallEventRuns()`. A stopped run finishes its current step (events enqueued before the cursor
 * moves) and returns.
 */
import { shutdownSignal } from '../shutdown';

const active = new Set<AbortController>();

export interface RunHandle {
  signal: AbortSignal;
  end(): void;
}

export function beginCallEventRun(): RunHandle {
  const controller = new AbortController();
  const shutdown = shutdownSignal();
  const onShutdown = () => controller.abort();
  if (shutdown.aborted) controller.abort();
  else shutdown.addEventListener('abort', onShutdown, { once: true });
  active.add(controller);
  return {
    signal: controller.signal,
    end: () => {
      active.delete(controller);
      shutdown.removeEventListener('abort', onShutdown);
    },
  };
}

/** Aborts every running callEvents run; returns how many were running. */
export function stopCallEventRuns(): number {
  const n = active.size;
  for (const c of active) c.abort();
  active.clear();
  return n;
}
