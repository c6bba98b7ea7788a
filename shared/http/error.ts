/**
 * The one error type of the upstream clients (Engage listener API and token endpoint, Notification
 * API v2, Noojee). Message and body are redacted here of credential-shaped fields; the clients redact
 * their own secret values before, since an upstream may echo the request.
 */
import { patternRedactor } from '../redact';

/** Code of a call that got no answer within its timeout (or before the caller's deadline). */
export const TIMEOUT = 'TIMEOUT';
/** Code of a call whose connection failed or dropped. */
export const NETWORK = 'NETWORK';
/** Code of a 2xx answer whose body is not what the API documents (not JSON, off-schema). */
export const INVALID_RESPONSE = 'INVALID_RESPONSE';

export interface UpstreamErrorOptions {
  /** Worth trying again (default: from the status, see isRetryableStatus). */
  retryable?: boolean;
  /** What the upstream asked us to wait (`Retry-After` / `retry-after-ms`), in ms. */
  retryAfterMs?: number;
  cause?: unknown;
}

/** Network failures and timeouts (no status), 5xx, 408 and 429 are worth trying again. */
export function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || status >= 500 || status === 408 || status === 429;
}

export class UpstreamError extends Error {
  readonly body: unknown;
  readonly retryable: boolean;
  /** Set from the answer's `Retry-After` (seconds or HTTP-date) or `retry-after-ms`, when it had one. */
  retryAfterMs?: number;

  constructor(
    message: string,
    readonly status: number | undefined,
    body: unknown,
    readonly code?: string,
    options: UpstreamErrorOptions = {},
  ) {
    super(patternRedactor.text(message), options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'UpstreamError';
    this.body = patternRedactor.value(body);
    this.retryable = options.retryable ?? isRetryableStatus(status);
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** Same as `retryable` (the name the callers used before). */
  get transient(): boolean {
    return this.retryable;
  }
}

/** True for an UpstreamError worth trying again. */
export function isRetryable(err: unknown): boolean {
  return err instanceof UpstreamError && err.retryable;
}
