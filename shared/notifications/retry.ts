import { isTransient } from './errors';

export interface RetryOptions {
  /** Retries after the first attempt. */
  attempts: number;
  /** Delay before the first retry; doubles each time (with ±20 % jitter). */
  baseDelayMs: number;
  /** Called before each retry (logging). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `fn`, retrying transient upstream failures (5xx, 429, timeouts, network) with exponential back-off. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= options.attempts || !isTransient(err)) throw err;
      const delay = Math.round(options.baseDelayMs * 2 ** attempt * (0.8 + Math.random() * 0.4));
      options.onRetry?.(err, attempt + 1, delay);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    }
  }
}
