/**
 * The Engage listener API (`/[APIURLSUFFIX]/api/V1/listener`): register (POST), unregister (DELETE),
 * list by notificationUrl (GET), typed with zod. Every call sends `Ocp-Apim-Subscription-Key` and
 * `Authorization: Bearer <session token>`; a 401 refreshes the token once and retries; a 429 / 503
 * with `Retry-After` is retried after that wait (engageCall). Upstream errors are UpstreamError
 * (status + body), never a crash, redacted of the subscription key,
 * the session token and credential-shaped fields (an error answer may echo the request headers).
 *
 * Response bodies are not documented (UPSTREAM-RESEARCH.md §2), so they are read leniently: a list
 * is an array, or an object holding one; fields are matched case-insensitively.
 */
import { z } from 'zod';
import { ConfigError } from '../errors';
import { Redactor } from '../redact';
import type { EngageSettings } from '../config/engage';
import { EngageTokenProvider } from './auth';
import { EVENT_TYPES, QUEUE_PROVIDERS } from './events';
import { engageCall } from './http';
import { eventTypeRef } from './routes';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** notificationUrl: https, or http for a loopback host only (local sandbox). */
export const notificationUrlSchema = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
    return;
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return;
  ctx.addIssue({ code: 'custom', message: 'must be an https URL (http only for localhost / 127.0.0.1 / ::1)' });
});

const PROVIDER_NUMBERS = Object.values(QUEUE_PROVIDERS) as number[];

/** Queue provider by number (2/3/4) or name (`AZUREQUEUEFILTERED`, `NOTIFICATIONHUB.AZUREQUEUEFILTEREDPROVIDER`). */
export const queueProviderRef = z.union([z.number(), z.string()]).transform((v, ctx): 2 | 3 | 4 => {
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (/^\d+$/.test(v.trim())) n = Number(v.trim());
  else {
    const key = v
      .trim()
      .toUpperCase()
      .replace(/^NOTIFICATIONHUB\./, '')
      .replace(/PROVIDER$/, '') as keyof typeof QUEUE_PROVIDERS;
    n = QUEUE_PROVIDERS[key];
  }
  if (n === undefined || !PROVIDER_NUMBERS.includes(n)) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown queue provider ${JSON.stringify(v)} (expected 2 PUBLISHNOTIFICATION, 3 AZUREQUEUE or 4 AZUREQUEUEFILTERED)`,
    });
    return z.NEVER;
  }
  return n as 2 | 3 | 4;
});

const resourceId = z.number().int().positive();

/** What a caller asks to register (event types by name or number). */
export const listenerRegistrationSchema = z
  .strictObject({
    secretkey: z.string().min(1, 'is required'),
    eventTypes: z.array(eventTypeRef).min(1, 'needs at least one event type'),
    resourceIds: z.array(resourceId).optional(),
    notificationUrl: notificationUrlSchema,
    queueProvider: queueProviderRef.optional(),
  })
  .superRefine((r, ctx) => {
    const filtered = r.queueProvider === QUEUE_PROVIDERS.AZUREQUEUEFILTERED;
    if (filtered && (!r.resourceIds || r.resourceIds.length === 0)) {
      ctx.addIssue({ code: 'custom', path: ['resourceIds'], message: 'are required for queue provider 4 (AZUREQUEUEFILTERED)' });
    }
    if (!filtered && r.resourceIds !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['resourceIds'], message: 'are only allowed with queue provider 4 (AZUREQUEUEFILTERED)' });
    }
  })
  .transform((r) => ({
    secretkey: r.secretkey,
    eventTypes: [...new Set(r.eventTypes.map((n) => EVENT_TYPES[n]))].sort((a, b) => a - b),
    ...(r.resourceIds ? { resourceIds: [...new Set(r.resourceIds)] } : {}),
    notificationUrl: r.notificationUrl,
    ...(r.queueProvider !== undefined ? { queueProvider: r.queueProvider } : {}),
  }));

export type ListenerRegistrationInput = z.input<typeof listenerRegistrationSchema>;
/** The wire body of POST /api/V1/listener. */
export type ListenerRegistration = z.output<typeof listenerRegistrationSchema>;

/** The wire body of DELETE /api/V1/listener. */
export const listenerDeletionSchema = z
  .strictObject({
    listenerId: z.coerce.number().int().positive(),
    eventType: eventTypeRef,
    notificationUrl: notificationUrlSchema,
    queueProvider: queueProviderRef.optional(),
  })
  .transform((d) => ({
    listenerId: d.listenerId,
    eventType: EVENT_TYPES[d.eventType],
    notificationUrl: d.notificationUrl,
    ...(d.queueProvider !== undefined ? { queueProvider: d.queueProvider } : {}),
  }));

export type ListenerDeletionInput = z.input<typeof listenerDeletionSchema>;
export type ListenerDeletion = z.output<typeof listenerDeletionSchema>;

/** A registered listener as read back (one event type per row, as the DELETE body suggests). */
export interface RegisteredListener {
  listenerId?: number;
  eventType?: number;
  notificationUrl?: string;
  queueProvider?: number;
  resourceIds?: number[];
}

function field(o: Record<string, unknown>, ...names: string[]): unknown {
  const lower = names.map((n) => n.toLowerCase());
  for (const [k, v] of Object.entries(o)) if (lower.includes(k.toLowerCase())) return v;
  return undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

/** Reads listener rows from an undocumented response shape; a row listing several event types becomes one row per type. */
export function parseListeners(body: unknown): RegisteredListener[] {
  let items: unknown[] | undefined;
  if (Array.isArray(body)) items = body;
  else if (typeof body === 'object' && body !== null) {
    const arrays = Object.values(body).filter(Array.isArray);
    items = arrays.length === 1 ? (arrays[0] as unknown[]) : undefined;
    if (!items && field(body as Record<string, unknown>, 'listenerId', 'id') !== undefined) items = [body];
  }
  if (!items) return [];
  const out: RegisteredListener[] = [];
  for (const it of items) {
    if (typeof it !== 'object' || it === null) continue;
    const o = it as Record<string, unknown>;
    const base: RegisteredListener = {};
    const id = num(field(o, 'listenerId', 'id'));
    if (id !== undefined) base.listenerId = id;
    const url = field(o, 'notificationUrl');
    if (typeof url === 'string') base.notificationUrl = url;
    const provider = num(field(o, 'queueProvider'));
    if (provider !== undefined) base.queueProvider = provider;
    const resources = field(o, 'resourceIds');
    if (Array.isArray(resources)) base.resourceIds = resources.map(num).filter((n): n is number => n !== undefined);
    const single = num(field(o, 'eventType'));
    const many = field(o, 'eventTypes');
    if (single !== undefined) out.push({ ...base, eventType: single });
    else if (Array.isArray(many) && many.length > 0)
      for (const t of many) out.push({ ...base, ...(num(t) !== undefined ? { eventType: num(t) } : {}) });
    else out.push(base);
  }
  return out;
}

export interface ListenerClientOptions {
  /** `https://<host>/<suffix>`: the part before `/api/V1/listener`. */
  apiBaseUrl: string;
  subscriptionKey: string;
  tokens: EngageTokenProvider;
  timeoutMs?: number;
}

export class EngageListenerClient {
  private readonly redactor: Redactor;

  constructor(private readonly options: ListenerClientOptions) {
    this.redactor = new Redactor([options.subscriptionKey]);
  }

  get listenerUrl(): string {
    return `${this.options.apiBaseUrl.replace(/\/+$/, '')}/api/V1/listener`;
  }

  /** Registers a listener (validated first: throws a ZodError for a bad request, UpstreamError for an upstream refusal). */
  async register(input: ListenerRegistrationInput): Promise<{ listeners: RegisteredListener[]; body: unknown }> {
    const body = listenerRegistrationSchema.parse(input);
    const res = await this.call('POST', this.listenerUrl, body);
    return { listeners: parseListeners(res), body: res };
  }

  async unregister(input: ListenerDeletionInput): Promise<unknown> {
    const body = listenerDeletionSchema.parse(input);
    return this.call('DELETE', this.listenerUrl, body);
  }

  async list(notificationUrl: string): Promise<RegisteredListener[]> {
    notificationUrlSchema.parse(notificationUrl);
    const res = await this.call('GET', `${this.listenerUrl}?notificationUrl=${encodeURIComponent(notificationUrl)}`);
    return parseListeners(res);
  }

  private call(method: string, url: string, body?: unknown): Promise<unknown> {
    const what = `Engage listener API ${method} ${new URL(url).pathname}`;
    return engageCall({
      url,
      method,
      headers: {
        'Ocp-Apim-Subscription-Key': this.options.subscriptionKey,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      tokens: this.options.tokens,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      what,
      redactor: this.redactor,
      describe: (status, resBody, redactor) => redactor.text(`${what} answered ${status}${upstreamReason(resBody)}`),
    });
  }
}

function upstreamReason(body: unknown): string {
  if (typeof body === 'string' && body.trim()) return `: ${body.trim().slice(0, 300)}`;
  if (typeof body === 'object' && body !== null) {
    const m = field(body as Record<string, unknown>, 'message', 'error_description', 'error', 'title');
    if (typeof m === 'string') return `: ${m.slice(0, 300)}`;
  }
  return '';
}

/** Token provider + listener client from settings; ConfigError naming what is missing. */
export function listenerClientFromSettings(s: EngageSettings): EngageListenerClient {
  const missing: string[] = [];
  if (!s.ENGAGE_BASE_URL)
    missing.push('ENGAGE_BASE_URL: required for the Engage listener API (e.g. https://developer-api.condecosoftware.com)');
  if (!s.ENGAGE_CLIENT_ID) missing.push('ENGAGE_CLIENT_ID: required for Engage session tokens');
  if (!s.ENGAGE_PASSWORD) missing.push('ENGAGE_PASSWORD: required for Engage session tokens');
  if (!s.ENGAGE_SUBSCRIPTION_KEY) missing.push('ENGAGE_SUBSCRIPTION_KEY: required (Ocp-Apim-Subscription-Key)');
  if (missing.length > 0) throw new ConfigError(missing);
  const base = s.ENGAGE_BASE_URL!.replace(/\/+$/, '');
  const tokens = new EngageTokenProvider({
    tokenUrl: s.ENGAGE_TOKEN_URL ?? `${base}/tokenproviderapi/token`,
    clientId: s.ENGAGE_CLIENT_ID!,
    password: s.ENGAGE_PASSWORD!,
    refreshMarginMs: s.ENGAGE_TOKEN_REFRESH_MARGIN_SECONDS * 1000,
    timeoutMs: s.ENGAGE_HTTP_TIMEOUT_MS,
  });
  return new EngageListenerClient({
    apiBaseUrl: s.ENGAGE_API_SUFFIX ? `${base}/${s.ENGAGE_API_SUFFIX}` : base,
    subscriptionKey: s.ENGAGE_SUBSCRIPTION_KEY!,
    tokens,
    timeoutMs: s.ENGAGE_HTTP_TIMEOUT_MS,
  });
}
