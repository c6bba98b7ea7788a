/**
 * Sandbox of the Notification API (Thales OneWelcome, v2 events), faithful to seed 002:
 * - token endpoint (form POST, `client_credentials` and `password` grants, scopes per client);
 * - subscriptions: create (administrator scope, body validated: event_type_ids non-empty and unique,
 *   client_id pattern), get with status (consumer scope), delete (administrator scope);
 * - notifications: destructive paged reads (`{page, size, results}`), 6 h retention;
 * - a subscription is visible only to tokens of its client_id (others get 404 NOT000006);
 * - fault injection (5xx, timeouts, slow answers) and a controllable clock.
 * Controls exist in-process (the returned object) and as HTTP endpoints under `/_sandbox/`:
 *   GET /_sandbox/state · POST /_sandbox/publish {subscriptionId?, count?, eventTypeId?, events?}
 *   POST /_sandbox/faults {endpoint?, kind, status?, delayMs?, times?, after?} · DELETE /_sandbox/faults
 *   POST /_sandbox/clock {advanceMs} · POST /_sandbox/clients {clientId, clientSecret, scopes, grants?}
 *   POST /_sandbox/subscriptions {client_id, event_type_ids} · DELETE /_sandbox/subscriptions/<id>
 * Error codes other than NOT000006 are the sandbox's own (the real list is not public).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { ADMINISTRATOR_SCOPE, CONSUMER_SCOPE, DEFAULT_PATHS } from '../../../shared/notificationApiV2/defaults';
import type { NotificationApiOptions } from '../../../shared/notificationApiV2/client';
import { SandboxModel, type Endpoint, type Fault, type SandboxClient, type SandboxSubscription, type SandboxUser } from './model';

export type { Fault, SandboxClient, SandboxUser } from './model';
export { sampleEvent, SAMPLE_EVENT_TYPES } from './events';

/** Credentials `npm start` and tests use by default (sandbox only: not secrets of any real system). */
export const SANDBOX_CLIENT_ID = 'engage-bridge';
export const SANDBOX_CLIENT_SECRET = 'sandbox-client-secret';
export const SANDBOX_USER = { username: 'notification-reader', password: 'sandbox-password' };

export interface NotificationsSandboxOptions {
  port?: number;
  /** OAuth clients (default: one client `engage-bridge` with both scopes). */
  clients?: SandboxClient[];
  /** Users for the password grant (default: SANDBOX_USER). */
  users?: SandboxUser[];
  tokenLifetimeSeconds?: number;
  /** How long unread notifications are kept (default 6 h). */
  retentionMs?: number;
  /** Page size when the request names none (default 100) and the cap (default 1000). */
  defaultPageSize?: number;
  maxPageSize?: number;
  pageSizeParam?: string;
  paths?: Partial<Pick<typeof DEFAULT_PATHS, 'token' | 'subscriptions' | 'subscription' | 'notifications'>>;
  /** Publish `count` realistic events to every subscription each `everyMs` (for `npm start`). */
  generate?: { everyMs: number; count?: number };
  /** Request log (one line per request; tokens never printed). */
  log?: (line: string) => void;
}

export interface NotificationsSandbox {
  url: string;
  port: number;
  tokenUrl: string;
  model: SandboxModel;
  publish(input: { subscriptionId?: string; events?: unknown[]; count?: number; eventTypeId?: string }): number;
  createSubscription(clientId: string, eventTypeIds: string[]): string;
  deleteSubscription(id: string): boolean;
  /** Unread notifications of a subscription (after retention). */
  pending(id: string): number;
  subscriptionIds(): string[];
  injectFault(fault: Fault): void;
  clearFaults(): void;
  advanceClock(ms: number): void;
  addClient(client: SandboxClient): void;
  stop(): Promise<void>;
}

/**
 * App settings that point the drain at a sandbox with its default client (`npm start`, e2e tests):
 * subscribes to the sample event types 101, 102 and 301.
 */
export function notificationsSandboxSettings(sandbox: Pick<NotificationsSandbox, 'url'>): Record<string, string> {
  return {
    NOTIFICATIONS_API_BASE_URL: sandbox.url,
    NOTIFICATIONS_CLIENT_ID: SANDBOX_CLIENT_ID,
    NOTIFICATIONS_CLIENT_SECRET: SANDBOX_CLIENT_SECRET,
    NOTIFICATIONS_EVENT_TYPE_IDS: '101,102,301',
  };
}

/** Client options for a sandbox with its default client (both scopes), default paths. */
export function sandboxClientOptions(
  sandbox: Pick<NotificationsSandbox, 'url' | 'tokenUrl'>,
  overrides: Partial<NotificationApiOptions> = {},
): NotificationApiOptions {
  return {
    baseUrl: sandbox.url,
    tokenUrl: sandbox.tokenUrl,
    grantType: 'client_credentials',
    consumer: { clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET, scope: CONSUMER_SCOPE },
    administrator: { clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET, scope: ADMINISTRATOR_SCOPE },
    paths: {
      subscriptions: DEFAULT_PATHS.subscriptions,
      subscription: DEFAULT_PATHS.subscription,
      notifications: DEFAULT_PATHS.notifications,
    },
    pageSizeParam: 'size',
    timeoutMs: 30_000,
    ...overrides,
  };
}

const faultSchema = z.object({
  endpoint: z.enum(['token', 'create', 'get', 'delete', 'notifications', 'any']).optional(),
  kind: z.enum(['status', 'timeout', 'slow', 'invalid']),
  status: z.number().int().min(400).max(599).optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  times: z.number().int().min(1).optional(),
  after: z.number().int().min(0).optional(),
});
const publishSchema = z.object({
  subscriptionId: z.string().optional(),
  count: z.number().int().min(0).max(1_000_000).optional(),
  eventTypeId: z.string().optional(),
  events: z.array(z.looseObject({ event_type_id: z.string() })).optional(),
});
const clientSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  scopes: z.array(z.string()),
  grants: z.array(z.enum(['client_credentials', 'password'])).optional(),
});
const createSchema = z.object({
  event_type_ids: z
    .array(z.string().min(1), { error: 'event_type_ids must be an array of strings' })
    .min(1, 'event_type_ids must not be empty')
    .refine((ids) => new Set(ids).size === ids.length, 'event_type_ids must be unique'),
  client_id: z.string({ error: 'client_id is required' }).regex(/^[\p{L}0-9._-]+$/u, 'client_id must match ^[\\p{L}0-9._-]+$'),
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

function apiError(status: number, code: string, message: string, description: string): HttpError {
  return new HttpError(status, { error_code: code, message, description });
}

function templateRegex(template: string): RegExp {
  const escaped = template.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\{id\\\}/g, '([^/?]+)');
  return new RegExp(`^${escaped}$`);
}

export async function startNotificationsSandbox(options: NotificationsSandboxOptions = {}): Promise<NotificationsSandbox> {
  const paths = { ...DEFAULT_PATHS, ...options.paths };
  const pageSizeParam = options.pageSizeParam ?? 'size';
  const model = new SandboxModel(
    options.retentionMs ?? 6 * 3600_000,
    options.tokenLifetimeSeconds ?? 3600,
    options.defaultPageSize ?? 100,
    options.maxPageSize ?? 1000,
  );
  for (const c of options.clients ?? [
    { clientId: SANDBOX_CLIENT_ID, clientSecret: SANDBOX_CLIENT_SECRET, scopes: [CONSUMER_SCOPE, ADMINISTRATOR_SCOPE] },
  ])
    model.addClient(c);
  for (const u of options.users ?? [SANDBOX_USER]) model.addUser(u);
  const routes = {
    notifications: templateRegex(paths.notifications),
    subscription: templateRegex(paths.subscription),
  };
  const log = options.log;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return send(res, err.status, err.body);
      send(res, 500, { error_code: 'NOT000500', message: 'Internal error', description: err instanceof Error ? err.message : String(err) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    log?.(`notifications sandbox: ${method} ${url.pathname}`);
    if (url.pathname.startsWith('/_sandbox/')) return control(method, url.pathname, req, res);

    let endpoint: Endpoint | undefined;
    let id: string | undefined;
    const n = routes.notifications.exec(url.pathname);
    const s = routes.subscription.exec(url.pathname);
    if (url.pathname === paths.token && method === 'POST') endpoint = 'token';
    else if (url.pathname === paths.subscriptions && method === 'POST') endpoint = 'create';
    else if (n && method === 'GET') [endpoint, id] = ['notifications', decodeURIComponent(n[1])];
    else if (s && method === 'GET') [endpoint, id] = ['get', decodeURIComponent(s[1])];
    else if (s && method === 'DELETE') [endpoint, id] = ['delete', decodeURIComponent(s[1])];
    if (!endpoint) throw apiError(404, 'NOT000404', 'Not found', `no endpoint ${method} ${url.pathname}`);

    // The whole request is received first, as a real server does: a slow answer still acts on it (a create
    // the client gave up waiting for does exist upstream).
    const body = await readBody(req);
    const fault = model.takeFault(endpoint);
    if (fault?.kind === 'timeout') return; // never answer: the client's timeout fires
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
    if (fault?.kind === 'invalid') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
      return;
    }
    if (fault?.kind === 'status') throw apiError(fault.status ?? 503, 'NOT000503', 'Service unavailable', 'injected fault');

    if (endpoint === 'token') return token(body, req, res);
    const grant = authorize(req, endpoint === 'create' || endpoint === 'delete' ? ADMINISTRATOR_SCOPE : CONSUMER_SCOPE);
    switch (endpoint) {
      case 'create': {
        const parsed = createSchema.safeParse(parseJson(body));
        if (!parsed.success) throw apiError(400, 'NOT000002', 'Invalid request', parsed.error.issues.map((i) => i.message).join('; '));
        const sub = model.createSubscription(parsed.data.client_id, parsed.data.event_type_ids, grant.clientId);
        return send(res, 201, model.view(sub));
      }
      case 'get':
        return send(res, 200, model.view(owned(id!, grant.clientId)));
      case 'delete': {
        if (!model.subscriptions.has(id!)) throw notFound(id!, grant.clientId);
        model.deleteSubscription(id!);
        return send(res, 200, { code: 'NOT000001', description: `Subscription with id [${id}] deleted.` });
      }
      case 'notifications': {
        const sub = owned(id!, grant.clientId);
        const raw = url.searchParams.get(pageSizeParam);
        const size = raw === null ? undefined : Number(raw);
        if (size !== undefined && (!Number.isInteger(size) || size < 1))
          throw apiError(400, 'NOT000002', 'Invalid request', `${pageSizeParam} must be a positive integer`);
        return send(res, 200, model.read(sub, size));
      }
    }
  }

  function owned(id: string, clientId: string): SandboxSubscription {
    const sub = model.subscriptions.get(id);
    if (!sub || sub.client_id !== clientId) throw notFound(id, clientId);
    return sub;
  }

  function notFound(id: string, clientId: string): HttpError {
    return apiError(404, 'NOT000006', 'Subscription not found', `Subscription with id [${id}] for client_id [${clientId}] does not exist.`);
  }

  function authorize(req: IncomingMessage, scope: string) {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const grant = m ? model.tokenInfo(m[1]) : undefined;
    if (!grant) throw apiError(401, 'NOT000401', 'Unauthorized', 'a valid access token is required');
    if (!grant.scopes.includes(scope)) throw apiError(403, 'NOT000403', 'Forbidden', `the access token lacks the scope ${scope}`);
    return grant;
  }

  function token(body: string, req: IncomingMessage, res: ServerResponse): void {
    const form = new URLSearchParams(body);
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    let clientId = form.get('client_id') ?? '';
    let secret = form.get('client_secret') ?? '';
    if (basic) [clientId = '', secret = ''] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
    const grantType = form.get('grant_type');
    if (grantType !== 'client_credentials' && grantType !== 'password') {
      throw new HttpError(400, { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials or password' });
    }
    const client = model.clients.get(clientId);
    if (!client || client.clientSecret !== secret)
      throw new HttpError(401, { error: 'invalid_client', error_description: 'client authentication failed' });
    if (!(client.grants ?? ['client_credentials', 'password']).includes(grantType)) {
      throw new HttpError(400, { error: 'unauthorized_client', error_description: `grant ${grantType} not allowed for this client` });
    }
    if (grantType === 'password') {
      const user = model.users.get(form.get('username') ?? '');
      if (!user || user.password !== form.get('password'))
        throw new HttpError(400, { error: 'invalid_grant', error_description: 'invalid username or password' });
    }
    const requested = (form.get('scope') ?? '').split(/\s+/).filter(Boolean);
    const denied = requested.filter((s) => !client.scopes.includes(s));
    if (denied.length) throw new HttpError(400, { error: 'invalid_scope', error_description: `scope not allowed: ${denied.join(' ')}` });
    const scopes = requested.length ? requested : client.scopes;
    const issued = model.issueToken(clientId, scopes);
    send(res, 200, { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope: scopes.join(' ') });
  }

  async function control(method: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = method === 'GET' || method === 'DELETE' ? undefined : parseJson(await readBody(req));
    const input = <T>(schema: z.ZodType<T>): T => {
      const parsed = schema.safeParse(body);
      if (!parsed.success)
        throw new HttpError(400, {
          error: 'invalid control request',
          issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
        });
      return parsed.data;
    };
    if (method === 'GET' && path === '/_sandbox/state') return send(res, 200, state());
    if (method === 'POST' && path === '/_sandbox/publish') {
      const p = input(publishSchema);
      try {
        return send(res, 200, { published: model.publish(p) });
      } catch (err) {
        throw new HttpError(404, { error: (err as Error).message });
      }
    }
    if (method === 'POST' && path === '/_sandbox/faults') {
      model.faults.push(input(faultSchema));
      return send(res, 204);
    }
    if (method === 'DELETE' && path === '/_sandbox/faults') {
      model.faults.length = 0;
      return send(res, 204);
    }
    if (method === 'POST' && path === '/_sandbox/clock') {
      model.clockOffsetMs += input(z.object({ advanceMs: z.number().int().min(0) })).advanceMs;
      return send(res, 200, { now: new Date(model.now()).toISOString() });
    }
    if (method === 'POST' && path === '/_sandbox/clients') {
      model.addClient(input(clientSchema));
      return send(res, 204);
    }
    if (method === 'POST' && path === '/_sandbox/subscriptions') {
      const c = input(createSchema);
      return send(res, 201, model.view(model.createSubscription(c.client_id, c.event_type_ids, 'sandbox')));
    }
    const del = /^\/_sandbox\/subscriptions\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && del) return send(res, model.deleteSubscription(decodeURIComponent(del[1])) ? 204 : 404);
    throw new HttpError(404, { error: `no control ${method} ${path}` });
  }

  function state() {
    return {
      now: new Date(model.now()).toISOString(),
      published: model.published,
      served: model.served,
      clients: [...model.clients.values()].map((c) => ({ clientId: c.clientId, scopes: c.scopes })),
      subscriptions: [...model.subscriptions.values()].map((s) => ({ ...model.view(s), pagesServed: s.pagesServed })),
      faults: model.faults,
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const generator = options.generate
    ? setInterval(() => {
        if (model.subscriptions.size) model.publish({ count: options.generate!.count ?? 3 });
      }, options.generate.everyMs)
    : undefined;
  generator?.unref();

  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    tokenUrl: `${url}${paths.token}`,
    model,
    publish: (input) => model.publish(input),
    createSubscription: (clientId, eventTypeIds) => model.createSubscription(clientId, eventTypeIds, 'sandbox').id,
    deleteSubscription: (id) => model.deleteSubscription(id),
    pending: (id) => {
      const s = model.subscriptions.get(id);
      if (!s) return 0;
      model.expire(s);
      return s.pending.length;
    },
    subscriptionIds: () => [...model.subscriptions.keys()],
    injectFault: (f) => model.faults.push({ ...f }),
    clearFaults: () => {
      model.faults.length = 0;
    },
    advanceClock: (ms) => {
      model.clockOffsetMs += ms;
    },
    addClient: (c) => model.addClient(c),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (generator) clearInterval(generator);
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

const MAX_BODY = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY)
      throw new HttpError(413, { error_code: 'NOT000413', message: 'Payload too large', description: `body over ${MAX_BODY} bytes` });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, { error_code: 'NOT000002', message: 'Invalid request', description: 'body is not JSON' });
  }
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (res.headersSent || res.destroyed) return;
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}
