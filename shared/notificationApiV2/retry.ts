import { withRetry as retrying } from '../http/retryPolicy';

export interface RetryOptions {
  /** Retries after the first attempt. */
  attempts: number;
  /** Delay before the first retry; doubles each time (with ±20 % jitter). A `Retry-After` answer waits what it asks instead. */
  baseDelayMs: number;
  /** No retry whose wait would end after this time (ms since epoch): the caller's budget. */
  deadline?: number;
  /** Called before each retry (logging). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `fn`, retrying transient upstream failures (5xx, 429, timeouts, network) with the upstream retry policy (shared/http). */
export function withRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  return retrying(fn, {
    maxRetries: options.attempts,
    baseDelayMs: options.baseDelayMs,
    deadline: options.deadline,
    onRetry: options.onRetry,
  });
}
