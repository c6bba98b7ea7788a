/** The Engage APIs' use of the upstream HTTP layer: lenient JSON bodies and their error answers. */
import { UpstreamError } from '../http/error';
import { upstreamCall, type UpstreamRequest, type UpstreamResponse } from '../http/client';
import type { RetryPolicy } from '../http/retryPolicy';
import type { Redactor } from '../redact';

/**
 * Engage calls are retried only when Engage asked for it (429 / 503 with `Retry-After`): a register
 * (POST) is not safe to repeat after any other failure, and the CLI reports the rest at once.
 */
export const ENGAGE_RETRY: RetryPolicy = { maxRetries: 3, baseDelayMs: 1000, maxRetryAfterMs: 60_000, retryOn: 'throttling' };

/** Parsed JSON, the text when it is not JSON (cut at 2,000 characters), undefined when empty. */
export function lenientBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  }
}

export type EngageRequest = Omit<UpstreamRequest<unknown>, 'read' | 'toError'> & {
  /** The message of an error answer (status and body known). */
  describe: (status: number, body: unknown, redactor: Redactor) => string;
};

/** One Engage call: the parsed 2xx body, or an UpstreamError (status, redacted body) for any other answer. */
export function engageCall(req: EngageRequest): Promise<unknown> {
  return upstreamCall({
    retry: ENGAGE_RETRY,
    ...req,
    read: (res) => lenientBody(res.text),
    toError: (res: UpstreamResponse, redactor) => {
      const body = lenientBody(res.text);
      return new UpstreamError(req.describe(res.status, body, redactor), res.status, redactor.value(body), undefined, {
        retryAfterMs: res.retryAfterMs,
      });
    },
  });
}
