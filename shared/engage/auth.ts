/**
 * Engage session tokens: `POST <token url>` (form `grant_type=password`, `client_id`, `password`) →
 * `{access_token, token_type, expires_in}` (12 h). The token is cached, refreshed `refreshMarginMs`
 * before it expires and once when an API call answers 401 (`invalidate`); concurrent callers share
 * one refresh. Errors are UpstreamError with status and body; the password never appears in them.
 */
import { z } from 'zod';
import { UpstreamError } from '../errors';
import { Redactor } from '../redact';
import { requestJson } from './http';

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

interface CachedToken {
  value: string;
  expiresAt: number;
}

export class EngageTokenProvider {
  private cached?: CachedToken;
  private inflight?: Promise<CachedToken>;
  /** Number of tokens fetched (diagnostics and tests). */
  fetched = 0;

  constructor(private readonly options: TokenProviderOptions) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** A valid session token (cached, or fetched once for all concurrent callers). */
  async getToken(): Promise<string> {
    const margin = this.options.refreshMarginMs ?? 5 * 60_000;
    if (this.cached && this.now() < this.cached.expiresAt - margin) return this.cached.value;
    return (await this.refresh()).value;
  }

  /** Drops `token` if it is still the cached one (the API answered 401 with it). */
  invalidate(token: string): void {
    if (this.cached?.value === token) this.cached = undefined;
  }

  private refresh(): Promise<CachedToken> {
    if (!this.inflight) {
      const started = this.now();
      this.inflight = this.fetchToken()
        .then((t) => {
          const token = { value: t.access_token, expiresAt: started + t.expires_in * 1000 };
          this.cached = token;
          this.fetched++;
          return token;
        })
        .finally(() => {
          this.inflight = undefined;
        });
    }
    return this.inflight;
  }

  private async fetchToken(): Promise<z.infer<typeof tokenResponseSchema>> {
    const form = new URLSearchParams({ grant_type: 'password', client_id: this.options.clientId, password: this.options.password });
    const res = await requestJson(this.options.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      timeoutMs: this.options.timeoutMs,
      what: 'Engage token endpoint',
    });
    const redactor = new Redactor([this.options.password]);
    if (res.status < 200 || res.status >= 300) {
      throw new UpstreamError(`Engage token endpoint answered ${res.status}${res.status === 400 || res.status === 401 ? ' (check ENGAGE_CLIENT_ID / ENGAGE_PASSWORD)' : ''}`, res.status, redactor.value(res.body));
    }
    const parsed = tokenResponseSchema.safeParse(res.body);
    if (!parsed.success) throw new UpstreamError('Engage token endpoint answered without a usable access_token/expires_in', res.status, redactor.value(res.body));
    return parsed.data;
  }
}
