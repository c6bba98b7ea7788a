/**
 * Client of the Notification API (Thales OneWelcome IDaaS "Notification API", v2 events):
 * OAuth tokens (client_credentials or password grant, one TokenCache per client + scope, renewed
 * shortly before expiry and once on a 401), subscriptions (create / get / delete) and destructive notification reads.
 * Paths are templates (`{id}` = subscription id) because the real ones are not public.
 * Calls go through the upstream HTTP layer (shared/http) without retries: the drain retries them with
 * the same policy (notifications/retry.ts), `Retry-After` included (`retryAfterMs` of the error).
 * Every failure is a NotificationApiError; error texts are redacted (the client's secrets, the token
 * in use and credential-shaped fields), since an error answer may echo the request.
 */
import { upstreamCall } from '../http/client';
import { parseJsonWithin, type JsonLimits } from '../engage/jsonLimits';
import { DEFAULT_PAGE_LIMITS } from './defaults';
import { TokenCache, type FetchedToken } from '../http/tokenCache';
import { Redactor } from '../redact';
import { NotificationApiError } from './errors';
import {
  createSubscriptionRequestSchema,
  errorBodySchema,
  notificationsPageSchema,
  subscriptionSchema,
  tokenResponseSchema,
  type CreateSubscriptionRequest,
  type NotificationsPage,
  type Subscription,
} from './schemas';

export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
  scope: string;
}

export interface NotificationApiOptions {
  baseUrl: string;
  tokenUrl: string;
  grantType: 'client_credentials' | 'password';
  /** Resource-owner credentials (password grant). */
  username?: string;
  password?: string;
  /** Reads subscriptions and notifications (scope notification:consent:consumer). */
  consumer: ClientCredentials;
  /** Creates and deletes subscriptions (scope notification:consent:administrator). */
  administrator: ClientCredentials;
  paths: { subscriptions: string; subscription: string; notifications: string };
  pageSizeParam: string;
  timeoutMs: number;
  /**
   * Bounds on a whole notifications page, checked on the response text in one pass (the webhook's
   * scanner) before anything parses it (NOTIFICATIONS_PAGE_MAX_DEPTH / NOTIFICATIONS_PAGE_MAX_ELEMENTS;
   * default DEFAULT_PAGE_LIMITS). A page over them is unreadable: the drain quarantines its text whole.
   */
  pageLimits?: JsonLimits;
}

/** A successfully read page, with the response text kept for the journal. */
export interface ReadPage extends NotificationsPage {
  /** Raw response text (what the API returned), for quarantine if the body was not understood. */
  text: string;
}

/** 2xx answer of a notifications read whose body is not a page: it may hold consumed notifications. */
export class UnreadablePageError extends NotificationApiError {
  constructor(
    readonly text: string,
    readonly reason: string,
  ) {
    super(`notifications response is not a page (${reason})`, 200, undefined, 'INVALID_RESPONSE');
    this.name = 'UnreadablePageError';
  }
}

/** Tokens are renewed this long before they expire. */
const EXPIRY_MARGIN_MS = 60_000;
/** When the token response has no expires_in (OneWelcome issues ~3600 s tokens). */
const DEFAULT_TOKEN_LIFETIME_S = 3600;

export class NotificationApiClient {
  /** One token per client + scope. */
  private readonly tokens = new Map<string, TokenCache>();
  private readonly base: string;
  private readonly redactor: Redactor;

  constructor(readonly options: NotificationApiOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.redactor = new Redactor([options.consumer.clientSecret, options.administrator.clientSecret, options.password]);
  }

  /** The API base URL (CloudEvents `source` of drained notifications). */
  get source(): string {
    return this.base;
  }

  async createSubscription(request: CreateSubscriptionRequest): Promise<Subscription> {
    const body = createSubscriptionRequestSchema.parse(request);
    const res = await this.call('administrator', 'POST', this.options.paths.subscriptions, body);
    return parseJson(res, subscriptionSchema, 'create subscription', this.redactor);
  }

  async getSubscription(id: string): Promise<Subscription> {
    const res = await this.call('consumer', 'GET', this.path(this.options.paths.subscription, id));
    return parseJson(res, subscriptionSchema, 'get subscription', this.redactor);
  }

  async deleteSubscription(id: string): Promise<void> {
    await this.call('administrator', 'DELETE', this.path(this.options.paths.subscription, id));
  }

  /** Reads (and thereby removes upstream) the next page of notifications. */
  async readNotifications(id: string, pageSize: number): Promise<ReadPage> {
    const path = this.path(this.options.paths.notifications, id);
    const sep = path.includes('?') ? '&' : '?';
    const res = await this.call('consumer', 'GET', `${path}${sep}${encodeURIComponent(this.options.pageSizeParam)}=${pageSize}`);
    // Bounded before parsing: a page nested or sized beyond the limits is never parsed (nor recursed on later).
    const bounded = parseJsonWithin(res.text, this.options.pageLimits ?? DEFAULT_PAGE_LIMITS);
    if (!bounded.ok) throw new UnreadablePageError(res.text, `page ${bounded.reason}`);
    const json = bounded.value;
    const parsed = notificationsPageSchema.safeParse(json);
    if (!parsed.success)
      throw new UnreadablePageError(res.text, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return { ...parsed.data, text: res.text };
  }

  /** Forget cached tokens (e.g. after credentials changed). */
  clearTokens(): void {
    this.tokens.clear();
  }

  private path(template: string, id: string): string {
    return template.replace(/\{id\}/g, encodeURIComponent(id));
  }

  private call(
    role: 'consumer' | 'administrator',
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; text: string }> {
    const what = `${method} ${path}`;
    return upstreamCall({
      url: `${this.base}${path}`,
      method,
      headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      what,
      timeoutMs: this.options.timeoutMs,
      tokens: this.tokenCache(this.options[role]),
      redactor: this.redactor,
      transportError,
      toError: (res, redactor) => apiError(what, res.status, redactor.text(res.text), res.retryAfterMs),
      read: (res) => res,
    });
  }

  private tokenCache(client: ClientCredentials): TokenCache {
    const key = tokenKey(client);
    let cache = this.tokens.get(key);
    if (!cache) {
      cache = new TokenCache({ fetch: () => this.requestToken(client), refreshMarginMs: EXPIRY_MARGIN_MS });
      this.tokens.set(key, cache);
    }
    return cache;
  }

  private async requestToken(client: ClientCredentials): Promise<FetchedToken> {
    const form = new URLSearchParams({ grant_type: this.options.grantType, client_id: client.clientId, scope: client.scope });
    if (client.clientSecret) form.set('client_secret', client.clientSecret);
    if (this.options.grantType === 'password') {
      form.set('username', this.options.username ?? '');
      form.set('password', this.options.password ?? '');
    }
    const res = await upstreamCall({
      url: this.options.tokenUrl,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
      what: 'token request',
      timeoutMs: this.options.timeoutMs,
      redactor: this.redactor,
      transportError,
      toError: (r, redactor) => apiError(`token request for client "${client.clientId}"`, r.status, redactor.text(r.text), r.retryAfterMs),
      read: (r) => r,
    });
    const parsed = parseJson(res, tokenResponseSchema, 'token request', this.redactor);
    return { value: parsed.access_token, expiresInMs: (parsed.expires_in ?? DEFAULT_TOKEN_LIFETIME_S) * 1000 };
  }
}

/** A failure without an answer (timeout, network) as a NotificationApiError. */
function transportError(message: string, code: string, cause: unknown): NotificationApiError {
  return new NotificationApiError(message, undefined, undefined, code, undefined, { cause });
}

function tokenKey(c: ClientCredentials): string {
  return `${c.clientId}\n${c.scope}`;
}

function parseJson<T>(
  res: { status: number; text: string },
  schema: {
    safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  what: string,
  redactor: Redactor,
): T {
  let json: unknown;
  try {
    json = JSON.parse(res.text);
  } catch {
    throw new NotificationApiError(`${what}: response is not JSON`, res.status, redactor.text(res.text.slice(0, 500)), 'INVALID_RESPONSE');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const reason = parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ');
    throw new NotificationApiError(`${what}: unexpected response (${reason})`, res.status, undefined, 'INVALID_RESPONSE');
  }
  return parsed.data;
}

/** Turns an error answer (its text already redacted of known secrets) into a NotificationApiError (`error_code`/`code`/`error`, message, description). */
export function apiError(what: string, status: number, text: string, retryAfterMs?: number): NotificationApiError {
  let body: unknown = text.slice(0, 2000);
  let code: string | undefined;
  let detail: string | undefined;
  let description: string | undefined;
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) {
      const b = parsed.data;
      body = b;
      code = b.error_code ?? b.code ?? b.error;
      description = b.description ?? b.error_description;
      detail = [b.message, description].filter(Boolean).join(': ') || undefined;
    }
  } catch {
    /* not JSON: keep the text */
  }
  const parts = [`${what} failed: HTTP ${status}`, code, detail].filter(Boolean);
  return new NotificationApiError(parts.join(' '), status, body, code, description, { retryAfterMs });
}
