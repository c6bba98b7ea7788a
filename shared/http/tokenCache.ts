/**
 * One bearer token, cached: fetched on first use, refreshed `refreshMarginMs` before it expires and
 * when the API refused it (`invalidate`, on a 401); concurrent callers share one fetch (single
 * flight). A failed fetch is not cached: the next caller tries again.
 */
export interface FetchedToken {
  value: string;
  /** Lifetime from the moment the request was sent. */
  expiresInMs: number;
}

export interface TokenCacheOptions {
  /** Gets a new token (or override `fetchToken` in a subclass). */
  fetch?: () => Promise<FetchedToken>;
  refreshMarginMs: number;
  /** Clock (tests). */
  now?: () => number;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

export class TokenCache {
  private cached?: CachedToken;
  private inflight?: Promise<CachedToken>;
  /** Tokens fetched (diagnostics and tests). */
  fetched = 0;

  constructor(private readonly cacheOptions: TokenCacheOptions) {}

  private now(): number {
    return (this.cacheOptions.now ?? Date.now)();
  }

  /** A valid token (cached, or fetched once for all concurrent callers). */
  async get(): Promise<string> {
    if (this.cached && this.now() < this.cached.expiresAt - this.cacheOptions.refreshMarginMs) return this.cached.value;
    return (await this.refresh()).value;
  }

  /** Drops `token` if it is still the cached one (the API answered 401 with it). */
  invalidate(token: string): void {
    if (this.cached?.value === token) this.cached = undefined;
  }

  /** Forgets the cached token. */
  clear(): void {
    this.cached = undefined;
  }

  /** Gets a new token. */
  protected fetchToken(): Promise<FetchedToken> {
    if (!this.cacheOptions.fetch) return Promise.reject(new Error('TokenCache: no fetch given'));
    return this.cacheOptions.fetch();
  }

  private refresh(): Promise<CachedToken> {
    if (!this.inflight) {
      const started = this.now();
      this.inflight = this.fetchToken()
        .then((t) => {
          const token = { value: t.value, expiresAt: started + t.expiresInMs };
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
}
