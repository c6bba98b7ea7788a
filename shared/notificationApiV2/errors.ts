import { UpstreamError, isRetryable, type UpstreamErrorOptions } from '../http/error';
import { patternRedactor } from '../redact';

/**
 * An error answer of the Notification API or its token endpoint. The API's error body is
 * `{error_code | code, message, description}` (e.g. 404 `NOT000006` "Subscription not found");
 * OAuth errors are `{error, error_description}`. `code` is whichever was given.
 * Network failures and timeouts have no status and code `NETWORK` / `TIMEOUT`; `transient`
 * (= `retryable`: 5xx, 408, 429, timeouts, network) and `retryAfterMs` come from UpstreamError.
 */
export class NotificationApiError extends UpstreamError {
  readonly description?: string;

  constructor(
    message: string,
    status: number | undefined,
    body: unknown,
    code: string | undefined,
    description?: string,
    options?: UpstreamErrorOptions,
  ) {
    super(message, status, body, code, options);
    this.name = 'NotificationApiError';
    if (description !== undefined) this.description = patternRedactor.text(description);
  }

  get notFound(): boolean {
    return this.status === 404;
  }
}

/** Worth retrying (now or next run): any retryable upstream failure. */
export function isTransient(err: unknown): boolean {
  return isRetryable(err);
}

/** Upstream says the subscription does not exist (404, e.g. NOT000006). */
export function isSubscriptionNotFound(err: unknown): boolean {
  return err instanceof NotificationApiError && err.notFound;
}
