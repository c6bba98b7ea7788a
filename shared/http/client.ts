/**
 * One upstream HTTP call, as all three upstream clients make it (Engage listener API and token
 * endpoint, Notification API v2 and its token endpoint, Noojee): global fetch with a per-attempt
 * timeout bounded by the caller's deadline and AbortSignal, an optional bearer token (TokenCache,
 * renewed once on a 401), the answer's `Retry-After` read, failures as UpstreamError (typed by the
 * caller's `toError`), and the retry policy applied when the caller asks for it. Error texts are
 * redacted of the caller's secrets and of the token in use.
 */
import { Redactor } from '../redact';
import { NETWORK, TIMEOUT, UpstreamError } from './error';
import { decideRetry, parseRetryAfter, sleep, type RetryPolicy } from './retryPolicy';
import type { TokenCache } from './tokenCache';

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  text: string;
  /** From `Retry-After` / `retry-after-ms`, when the answer had one. */
  retryAfterMs?: number;
}

export interface UpstreamRequest<T> {
  url: string;
  method: string;
  headers?: Record<string, string>;
  body?: string;
  /** Names the call in error messages, e.g. `Engage listener API GET /api/V1/listener`. */
  what: string;
  /** Timeout of one attempt (answer and body). */
  timeoutMs: number;
  /** Absolute time (ms since epoch) by which the call must be over: bounds each attempt and every retry wait. */
  deadline?: number;
  /** The caller's cancellation (host shutdown, end of a run). */
  signal?: AbortSignal;
  /** Knows the caller's secrets (the token in use is added). */
  redactor?: Redactor;
  /** Sends `Authorization: Bearer <token>`; a 401 renews the token once and tries again. */
  tokens?: TokenCache;
  /** Retries on this client (default: none, the caller retries with the same policy). */
  retry?: RetryPolicy & { onRetry?: (err: UpstreamError, retry: number, delayMs: number) => void };
  /** The error for a non-2xx answer (default: a plain UpstreamError naming `what` and the status). */
  toError?: (res: UpstreamResponse, redactor: Redactor) => UpstreamError;
  /** The error for a failure without an answer (default: a plain UpstreamError). */
  transportError?: (message: string, code: string, cause: unknown) => UpstreamError;
  /** Reads a 2xx answer; throws an UpstreamError for an answer it cannot use (retryable when asking again may help). */
  read: (res: UpstreamResponse, redactor: Redactor) => T;
  /** Clock (tests). */
  now?: () => number;
}

/** Makes the call (with its retries) and returns what `read` made of the 2xx answer. */
export async function upstreamCall<T>(req: UpstreamRequest<T>): Promise<T> {
  const now = req.now ?? Date.now;
  let renewed = false;
  for (let retry = 0; ;) {
    const token = req.tokens ? await req.tokens.get() : undefined;
    const redactor = (req.redactor ?? new Redactor()).with([token]);
    let error: UpstreamError;
    try {
      const res = await attempt(req, token, redactor, now);
      if (res.status === 401 && req.tokens && token !== undefined && !renewed) {
        // The token expired or was revoked early: renew it once (shared with concurrent callers) and try again.
        renewed = true;
        req.tokens.invalidate(token);
        continue;
      }
      if (res.status < 200 || res.status >= 300) {
        error = (req.toError ?? defaultError(req.what))(res, redactor);
        if (error.retryAfterMs === undefined && res.retryAfterMs !== undefined) error.retryAfterMs = res.retryAfterMs;
      } else {
        try {
          return req.read(res, redactor);
        } catch (err) {
          if (!(err instanceof UpstreamError)) throw err;
          error = err;
        }
      }
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      error = err;
    }
    if (!req.retry || req.signal?.aborted) throw error;
    const decision = decideRetry(error, retry, req.retry, { deadline: req.deadline, now });
    if (!decision.retry) throw error;
    retry++;
    req.retry.onRetry?.(error, retry, decision.delayMs);
    await sleep(decision.delayMs, req.signal);
    if (req.signal?.aborted) throw error;
  }
}

async function attempt<T>(
  req: UpstreamRequest<T>,
  token: string | undefined,
  redactor: Redactor,
  now: () => number,
): Promise<UpstreamResponse> {
  const transport =
    req.transportError ??
    ((message: string, code: string, cause: unknown) =>
      new UpstreamError(message, undefined, undefined, code, { cause, retryable: code !== 'ABORTED' }));
  const left = req.deadline === undefined ? req.timeoutMs : Math.min(req.timeoutMs, req.deadline - now());
  if (left <= 0) throw transport(`${req.what}: no time left before the deadline`, TIMEOUT, undefined);
  const timeout = AbortSignal.timeout(left);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const headers = { ...req.headers, ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) };
  try {
    const res = await fetch(req.url, { method: req.method, headers, body: req.body, signal });
    const text = await res.text();
    const retryAfterMs = parseRetryAfter(res.headers, now());
    return { status: res.status, headers: res.headers, text, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  } catch (err) {
    if (timeout.aborted) throw transport(`${req.what}: no answer within ${left} ms`, TIMEOUT, err);
    if (req.signal?.aborted) throw transport(`${req.what}: aborted by the caller`, 'ABORTED', err);
    throw transport(`${req.what}: network error (${redactor.text(describeNetworkError(err))})`, NETWORK, err);
  }
}

function defaultError(what: string) {
  return (res: UpstreamResponse, redactor: Redactor) =>
    new UpstreamError(`${what} answered HTTP ${res.status}`, res.status, redactor.text(res.text.slice(0, 2000)), undefined, {
      retryAfterMs: res.retryAfterMs,
    });
}

/** "fetch failed" says nothing: names the underlying cause (ECONNRESET, socket closed, ...). */
export function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`;
  if (cause?.message) return cause.message;
  return (err as Error)?.message ?? String(err);
}
