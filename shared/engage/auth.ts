/**
 * Engage session tokens: `POST <token url>` (form `grant_type=password`, `client_id`, `password`) →
 * `{access_token, token_type, expires_in}` (12 h). A TokenCache: refreshed `refreshMarginMs` before
 * it expires and once when an API call answers 401; concurrent callers share one refresh. Errors are
 * UpstreamError with status and body; the password never appears in them.
 */
import { z } from 'zod';
import { UpstreamError } from '../http/error';
import { TokenCache, type FetchedToken } from '../http/tokenCache';
import { Redactor } from '../redact';
import { engageCall } from './http';

export const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive(),
});

export interface TokenProviderOptions {
  tokenUrl: string;
  clientId: string;
  password: string;
  /** Refresh this long before expiry (default 5 min). */
  refreshMarginMs?: number;
  timeoutMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

export class EngageTokenProvider extends TokenCache {
  constructor(private readonly options: TokenProviderOptions) {
    super({ refreshMarginMs: options.refreshMarginMs ?? 5 * 60_000, now: options.now });
  }

  /** A valid session token (cached, or fetched once for all concurrent callers). */
  getToken(): Promise<string> {
    return this.get();
  }

  protected override async fetchToken(): Promise<FetchedToken> {
    const form = new URLSearchParams({ grant_type: 'password', client_id: this.options.clientId, password: this.options.password });
    const redactor = new Redactor([this.options.password]);
    const body = await engageCall({
      url: this.options.tokenUrl,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      timeoutMs: this.options.timeoutMs ?? 30_000,
      what: 'Engage token endpoint',
      redactor,
      describe: (status) =>
        `Engage token endpoint answered ${status}${status === 400 || status === 401 ? ' (check ENGAGE_CLIENT_ID / ENGAGE_PASSWORD)' : ''}`,
    });
    const parsed = tokenResponseSchema.safeParse(body);
    if (!parsed.success)
      throw new UpstreamError(
        'Engage token endpoint answered without a usable access_token/expires_in',
        200,
        redactor.value(body),
        undefined,
        { retryable: false },
      );
    return { value: parsed.data.access_token, expiresInMs: parsed.data.expires_in * 1000 };
  }
}
