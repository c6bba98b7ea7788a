/**
 * The one retry policy of the upstream clients, after Azure core-rest-pipeline's exponential and
 * throttling retry strategies: a retryable failure waits `baseDelayMs × 2^retry` (±20 % jitter,
 * at most `maxDelayMs`), unless the upstream said how long with `Retry-After` (seconds or an
 * HTTP-date) or `retry-after-ms` / `x-ms-retry-after-ms`: then exactly that, never less. No retry
 * is made whose wait would end at or after the caller's deadline (its remaining budget): the error
 * is returned at once rather than after a useless wait.
 */
import { isRetryable, UpstreamError } from './error';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Wait before the first retry; doubles each retry. */
  baseDelayMs: number;
  /** Longest back-off wait (does not shorten a Retry-After). Default 60 s. */
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited for (the error is returned). Default 5 min. */
  maxRetryAfterMs?: number;
  /**
   * `transient` (default): every retryable failure. `throttling`: only answers that asked to be
   * retried later (429 / 503 with a Retry-After), for calls that are not safe to repeat otherwise.
   */
  retryOn?: 'transient' | 'throttling';
}

export interface RetryContext {
  /** Absolute time (ms since epoch) after which no attempt may start. */
  deadline?: number;
  now?: () => number;
  random?: () => number;
}

export type RetryDecision =
  | { retry: true; delayMs: number; reason: 'retry-after' | 'backoff' }
  | { retry: false; reason: 'not-retryable' | 'attempts' | 'deadline' | 'retry-after-too-long' };

const DEFAULT_MAX_DELAY_MS = 60_000;
const DEFAULT_MAX_RETRY_AFTER_MS = 5 * 60_000;

/** Back-off before retry number `retry` (0 = the first retry), without Retry-After. */
export function backoffDelay(
  retry: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const exponential = policy.baseDelayMs * 2 ** Math.min(retry, 30) * (0.8 + random() * 0.4);
  return Math.round(Math.min(policy.maxDelayMs ?? DEFAULT_MAX_DELAY_MS, exponential));
}

/** Whether (and after how long) to retry after `err`, the failure of attempt `retry + 1`. */
export function decideRetry(err: unknown, retry: number, policy: RetryPolicy, context: RetryContext = {}): RetryDecision {
  if (!isRetryable(err)) return { retry: false, reason: 'not-retryable' };
  const retryAfterMs = (err as UpstreamError).retryAfterMs;
  if (policy.retryOn === 'throttling' && !(retryAfterMs !== undefined && isThrottlingStatus((err as UpstreamError).status))) {
    return { retry: false, reason: 'not-retryable' };
  }
  if (retry >= policy.maxRetries) return { retry: false, reason: 'attempts' };
  let decision: RetryDecision;
  if (retryAfterMs !== undefined) {
    if (retryAfterMs > (policy.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS)) return { retry: false, reason: 'retry-after-too-long' };
    decision = { retry: true, delayMs: retryAfterMs, reason: 'retry-after' };
  } else {
    decision = { retry: true, delayMs: backoffDelay(retry, policy, context.random), reason: 'backoff' };
  }
  if (context.deadline !== undefined && (context.now ?? Date.now)() + decision.delayMs >= context.deadline)
    return { retry: false, reason: 'deadline' };
  return decision;
}

function isThrottlingStatus(status: number | undefined): boolean {
  return status === 429 || status === 503;
}

type HeaderSource = Headers | Record<string, string | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers as Record<string, string | undefined>)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * The wait an answer asks for, in ms: `retry-after-ms` / `x-ms-retry-after-ms` (ms), else
 * `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3; a date in the past is 0).
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: HeaderSource, now: number = Date.now()): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const raw = header(headers, name)?.trim();
    if (raw && /^\d+(\.\d+)?$/.test(raw)) return Math.ceil(Number(raw));
  }
  const raw = header(headers, 'retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.ceil(Number(raw) * 1000);
  // An HTTP-date has a weekday or month name; anything else (e.g. "-1", "soon") is unreadable.
  if (!/[a-z]{3}/i.test(raw)) return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Waits `ms` (resolves early when `signal` aborts). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface WithRetryOptions extends RetryPolicy, RetryContext {
  /** Called before each wait (logging); `retry` counts from 1. */
  onRetry?: (err: unknown, retry: number, delayMs: number) => void;
  /** Stops retrying (the last error is thrown) when it aborts. */
  signal?: AbortSignal;
  /** Injected wait (tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Runs `fn`, retrying its retryable failures as the policy says. */
export async function withRetry<T>(fn: () => Promise<T>, options: WithRetryOptions): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await fn();
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const decision = decideRetry(err, retry, options, options);
      if (!decision.retry) throw err;
      options.onRetry?.(err, retry + 1, decision.delayMs);
      await (options.sleep ?? sleep)(decision.delayMs, options.signal);
      if (options.signal?.aborted) throw err;
    }
  }
}
