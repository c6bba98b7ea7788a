import { UpstreamError } from '../errors';
import { patternRedactor } from '../redact';

/**
 * An error answer of the Notification API or its token endpoint. The API's error body is
 * `{error_code | code, message, description}` (e.g. 404 `NOT000006` "Subscription not found");
 * OAuth errors are `{error, error_description}`. `code` is whichever was given.
 * Network failures and timeouts have no status and code `NETWORK` / `TIMEOUT`.
 */
export class NotificationApiError extends UpstreamError {
  readonly description?: string;

  constructor(message: string, status: number | undefined, body: unknown, code: string | undefined, description?: string) {
    super(message, status, body, code);
    this.name = 'NotificationApiError';
    if (description !== undefined) this.description = patternRedactor.text(description);
  }

  /** 5xx, 408, 429, timeouts and network failures: worth retrying (now or next run). */
  get transient(): boolean {
    if (this.status === undefined) return true;
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }

  get notFound(): boolean {
    return this.status === 404;
  }
}

export function isTransient(err: unknown): boolean {
  return err instanceof NotificationApiError && err.transient;
}

/** Upstream says the subscription does not exist (404, e.g. NOT000006). */
export function isSubscriptionNotFound(err: unknown): boolean {
  return err instanceof NotificationApiError && err.notFound;
}
