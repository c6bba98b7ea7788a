/**
 * Eptura Engage sandbox: the token endpoint (12 h tokens, 401 on bad credentials), the listener API
 * (`/<suffix>/api/V1/listener`, documented validation, subscription key + bearer token), and a pusher
 * that POSTs ASP.NET-WebHooks envelopes to registered listeners, signed with the listener's
 * `secretkey` (`ms-signature`), retrying at +1 min and +4 min (scaled by `timeScale`), stopping on 410.
 *
 * Controls, in process and over HTTP under `/_sandbox/`:
 *   GET  /_sandbox/listeners               registered listeners (secrets omitted)
 *   POST /_sandbox/push                    {notifications:[{action, payload?}]} or {samples: n} → envelope ids
 *   POST /_sandbox/faults                  {target: 'token'|'listener', status, count}: next calls fail
 *   POST /_sandbox/expire-tokens           every issued token becomes invalid (API answers 401)
 *   POST /_sandbox/time-scale              {timeScale}
 *   GET  /_sandbox/deliveries              delivery attempts so far
 * Payloads are sent `base64-json` encoded (set ENGAGE_DECODER=base64-json on the webhook).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ZodError } from 'zod';
import { encodeBase64Json } from '../../../shared/engage/decoder';
import { EVENT_TYPES, eventTypeName, type EventTypeName } from '../../../shared/engage/events';
import { listenerDeletionSchema, listenerRegistrationSchema } from '../../../shared/engage/listeners';
import { describeIssues } from '../../../shared/errors';
import { findResourceIds } from '../../../shared/engage/routes';
import { signBody } from '../../../shared/engage/signature';
import { samplePayload } from './samples';

export interface EngageSandboxOptions {
  port?: number;
  host?: string;
  clientId?: string;
  password?: string;
  subscriptionKey?: string;
  /** Session token lifetime (default 43199 s, as upstream). */
  tokenTtlSeconds?: number;
  /** Multiplies the pusher's retry delays (1 = real minutes; 0.001 = 60 ms / 240 ms). */
  timeScale?: number;
  /** Retry delays before attempts 2, 3… in unscaled ms (default [60 000, 240 000]: ASP.NET WebHooks). */
  retryDelaysMs?: number[];
  /** Timeout of one delivery POST (default 30 s). */
  deliveryTimeoutMs?: number;
  /** When set, pushes one sample notification of a rotating type every interval (npm start). */
  sampleIntervalMs?: number;
  /** Listeners registered at start (e.g. the local webhook for npm start), validated like POST /api/V1/listener. */
  listeners?: {
    secretkey: string;
    eventTypes: (string | number)[];
    notificationUrl: string;
    queueProvider?: number | string;
    resourceIds?: number[];
  }[];
  log?: (line: string) => void;
}

export interface SandboxListener {
  listenerId: number;
  eventType: number;
  notificationUrl: string;
  queueProvider: number;
  resourceIds?: number[];
  secretkey: string;
}

export interface PushNotification {
  /** Action name (`DESK`) or event type number. */
  action: string | number;
  /** Decoded payload; a realistic sample when absent. */
  payload?: unknown;
}

export interface Delivery {
  envelopeId: string;
  attempt: number;
  url: string;
  status?: number;
  error?: string;
  at: string;
}

export interface SandboxFault {
  target: 'token' | 'listener';
  status: number;
  count: number;
}

export interface EngageSandbox {
  url: string;
  port: number;
  /** `apiBaseUrl` for EngageListenerClient / ENGAGE_BASE_URL + ENGAGE_API_SUFFIX. */
  apiSuffix: string;
  tokenUrl: string;
  credentials: { clientId: string; password: string; subscriptionKey: string };
  listeners(): SandboxListener[];
  push(notifications: PushNotification[]): Promise<string[]>;
  pushSamples(count: number): Promise<string[]>;
  injectFault(fault: SandboxFault): void;
  expireTokens(): void;
  setTimeScale(scale: number): void;
  deliveries(): Delivery[];
  tokensIssued(): number;
  /** Resolves when no delivery (or pending retry) is in flight. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_SUFFIX = 'sandbox';

export async function startEngageSandbox(options: EngageSandboxOptions = {}): Promise<EngageSandbox> {
  const clientId = options.clientId ?? 'sandbox-client';
  const password = options.password ?? 'sandbox-password';
  const subscriptionKey = options.subscriptionKey ?? 'sandbox-subscription-key';
  const ttl = options.tokenTtlSeconds ?? 43199;
  const retryDelays = options.retryDelaysMs ?? [60_000, 240_000];
  const log = options.log ?? (() => undefined);
  let timeScale = options.timeScale ?? 1;
  let stopped = false;

  const tokens = new Map<string, number>(); // token → expiresAt
  let tokensIssued = 0;
  const listeners: SandboxListener[] = [];
  let nextListenerId = 1;
  const faults: SandboxFault[] = [];
  const deliveries: Delivery[] = [];
  const inflight = new Set<Promise<void>>();
  const timers = new Map<NodeJS.Timeout, () => void>(); // pending retry delays → their resolve
  const aborts = new Set<AbortController>();

  function takeFault(target: SandboxFault['target']): number | undefined {
    const f = faults.find((x) => x.target === target && x.count > 0);
    if (!f) return undefined;
    f.count--;
    return f.status;
  }

  function json(res: ServerResponse, status: number, body: unknown): void {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, text ? { 'content-type': 'application/json; charset=utf-8' } : {});
    res.end(text);
  }

  async function readText(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  function authorized(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.headers['ocp-apim-subscription-key'] !== subscriptionKey) {
      json(res, 401, { statusCode: 401, message: 'Access denied due to missing or invalid subscription key.' });
      return false;
    }
    const bearer = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const expiresAt = bearer ? tokens.get(bearer) : undefined;
    if (!expiresAt || expiresAt <= Date.now()) {
      json(res, 401, { message: 'Authorization has been denied for this request.' });
      return false;
    }
    return true;
  }

  function addListeners(input: unknown): SandboxListener[] {
    const r = listenerRegistrationSchema.parse(input);
    return r.eventTypes.map((eventType) => {
      const l: SandboxListener = {
        listenerId: nextListenerId++,
        eventType,
        notificationUrl: r.notificationUrl,
        queueProvider: r.queueProvider ?? 3,
        ...(r.resourceIds ? { resourceIds: r.resourceIds } : {}),
        secretkey: r.secretkey,
      };
      listeners.push(l);
      return l;
    });
  }
  for (const l of options.listeners ?? []) addListeners(l);

  const visible = (l: SandboxListener) => {
    const { secretkey: _secret, ...rest } = l;
    return rest;
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (path === '/tokenproviderapi/token' && method === 'POST') {
      const form = new URLSearchParams(await readText(req));
      const fault = takeFault('token');
      if (fault) return json(res, fault, { error: 'server_error' });
      if (form.get('grant_type') !== 'password') return json(res, 400, { error: 'unsupported_grant_type' });
      if (form.get('client_id') !== clientId || form.get('password') !== password) {
        return json(res, 401, { error: 'invalid_grant', error_description: 'The client id or password is incorrect.' });
      }
      const token = randomBytes(24).toString('base64url');
      tokens.set(token, Date.now() + ttl * 1000);
      tokensIssued++;
      return json(res, 200, { access_token: token, token_type: 'bearer', expires_in: ttl });
    }

    // GET /api/V1/listener?notificationUrl=… and the documented `/listener/notificationUrl=…` form.
    const listenerPath = /^\/(.+\/)?api\/v1\/listener(?:\/notificationurl=(.*))?\/?$/i.exec(path);
    if (listenerPath) {
      const fault = takeFault('listener');
      if (fault) return json(res, fault, { message: 'injected fault' });
      if (!authorized(req, res)) return;
      if (method === 'GET') {
        const wanted =
          listenerPath[2] !== undefined
            ? decodeURIComponent(listenerPath[2])
            : [...url.searchParams].find(([k]) => k.toLowerCase() === 'notificationurl')?.[1];
        if (!wanted) return json(res, 400, { message: 'notificationUrl is required' });
        return json(res, 200, listeners.filter((l) => l.notificationUrl === wanted).map(visible));
      }
      let body: unknown;
      try {
        body = JSON.parse(await readText(req));
      } catch {
        return json(res, 400, { message: 'The request body is not valid JSON.' });
      }
      try {
        if (method === 'POST') {
          const created = addListeners(body);
          log(
            `engage sandbox: registered ${created.length} listener(s) for ${created[0].notificationUrl.replace(/([?&]code=)[^&]*/i, '$1***')}`,
          );
          return json(res, 200, created.map(visible));
        }
        if (method === 'DELETE') {
          const d = listenerDeletionSchema.parse(body);
          const i = listeners.findIndex(
            (l) => l.listenerId === d.listenerId && l.eventType === d.eventType && l.notificationUrl === d.notificationUrl,
          );
          if (i < 0) return json(res, 404, { message: `listener ${d.listenerId} not found` });
          listeners.splice(i, 1);
          return json(res, 200, { message: 'Listener deleted' });
        }
      } catch (err) {
        if (err instanceof ZodError) return json(res, 400, { message: `Invalid request: ${describeIssues(err)}` });
        throw err;
      }
      return json(res, 405, { message: 'method not allowed' });
    }

    if (path.startsWith('/_sandbox/')) {
      const control = path.slice('/_sandbox/'.length);
      if (method === 'GET' && control === 'listeners') return json(res, 200, listeners.map(visible));
      if (method === 'GET' && control === 'deliveries') return json(res, 200, deliveries);
      const text = method === 'POST' ? await readText(req) : '';
      let body: Record<string, unknown>;
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        return json(res, 400, { message: 'control body must be JSON' });
      }
      if (method === 'POST' && control === 'push') {
        const ids = Array.isArray(body.notifications)
          ? await sandbox.push(body.notifications as PushNotification[])
          : await sandbox.pushSamples(Number(body.samples ?? 1));
        return json(res, 200, { envelopeIds: ids });
      }
      if (method === 'POST' && control === 'faults') {
        sandbox.injectFault({
          target: body.target === 'token' ? 'token' : 'listener',
          status: Number(body.status ?? 500),
          count: Number(body.count ?? 1),
        });
        return json(res, 200, { ok: true });
      }
      if (method === 'POST' && control === 'expire-tokens') {
        sandbox.expireTokens();
        return json(res, 200, { ok: true });
      }
      if (method === 'POST' && control === 'time-scale') {
        sandbox.setTimeScale(Number(body.timeScale));
        return json(res, 200, { timeScale });
      }
      return json(res, 404, { message: 'unknown sandbox control' });
    }
    json(res, 404, { message: 'not found' });
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.set(t, resolve);
    });
  }

  /** One envelope to one listener URL: attempts at 0, +1 min, +4 min (scaled); stop on 2xx or 410. */
  async function deliver(url: string, secret: string, notifications: { Action: string; DynamicParamA: string }[]): Promise<void> {
    const id = randomUUID().replace(/-/g, '');
    for (let attempt = 1; attempt <= retryDelays.length + 1 && !stopped; attempt++) {
      if (attempt > 1) await sleep(retryDelays[attempt - 2] * timeScale);
      if (stopped) return;
      const body = JSON.stringify({ Id: id, Attempt: attempt, Properties: { StaticParamA: 'DateTime' }, Notifications: notifications });
      const record: Delivery = { envelopeId: id, attempt, url, at: new Date().toISOString() };
      deliveries.push(record);
      const abort = new AbortController();
      aborts.add(abort);
      const timer = setTimeout(() => abort.abort(), options.deliveryTimeoutMs ?? 30_000);
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', 'ms-signature': signBody(secret, body) },
          body,
          signal: abort.signal,
        });
        await res.arrayBuffer().catch(() => undefined);
        record.status = res.status;
        log(`engage sandbox: envelope ${id} attempt ${attempt} → ${res.status}`);
        if ((res.status >= 200 && res.status < 300) || res.status === 410) return;
      } catch (err) {
        record.error = err instanceof Error ? err.message : String(err);
        log(`engage sandbox: envelope ${id} attempt ${attempt} failed: ${record.error}`);
      } finally {
        clearTimeout(timer);
        aborts.delete(abort);
      }
    }
  }

  function track(p: Promise<void>): void {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      log(`engage sandbox: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const base = `http://${options.host ?? '127.0.0.1'}:${port}`;
  let sampleTimer: NodeJS.Timeout | undefined;
  let sampleIndex = 0;

  const sandbox: EngageSandbox = {
    url: base,
    port,
    apiSuffix: DEFAULT_SUFFIX,
    tokenUrl: `${base}/tokenproviderapi/token`,
    credentials: { clientId, password, subscriptionKey },
    listeners: () => listeners.map((l) => ({ ...l })),
    async push(items) {
      const resolved = items.map((n) => {
        const name = typeof n.action === 'number' ? eventTypeName(n.action) : (String(n.action).toUpperCase() as EventTypeName);
        const action = name ?? String(n.action).toUpperCase();
        const payload = n.payload ?? (name ? samplePayload(name) : {});
        return { action, type: name ? EVENT_TYPES[name] : undefined, payload, resources: (findResourceIds(payload) ?? []).map(Number) };
      });
      // One envelope per (notificationUrl, secret), holding every notification some row of it subscribed to.
      const groups = new Map<string, { url: string; secret: string; notifications: { Action: string; DynamicParamA: string }[] }>();
      for (const n of resolved) {
        const matched = new Set<string>();
        for (const l of listeners) {
          if (l.eventType !== n.type) continue;
          if (l.queueProvider === 4 && !n.resources.some((r) => l.resourceIds?.includes(r))) continue;
          const key = `${l.notificationUrl}\n${l.secretkey}`;
          if (matched.has(key)) continue;
          matched.add(key);
          const g = groups.get(key) ?? { url: l.notificationUrl, secret: l.secretkey, notifications: [] };
          g.notifications.push({ Action: n.action, DynamicParamA: encodeBase64Json(n.payload) });
          groups.set(key, g);
        }
      }
      const before = deliveries.length;
      for (const g of groups.values()) track(deliver(g.url, g.secret, g.notifications));
      // Deliveries record their envelope id synchronously on the first attempt.
      await Promise.resolve();
      return deliveries.slice(before).map((d) => d.envelopeId);
    },
    pushSamples(count) {
      const types = Object.keys(EVENT_TYPES) as EventTypeName[];
      const items: PushNotification[] = [];
      for (let i = 0; i < count; i++) items.push({ action: types[sampleIndex++ % types.length] });
      return sandbox.push(items);
    },
    injectFault(f) {
      faults.push({ ...f });
    },
    expireTokens() {
      for (const k of tokens.keys()) tokens.set(k, 0);
    },
    setTimeScale(scale) {
      if (!(scale > 0)) throw new Error('timeScale must be > 0');
      timeScale = scale;
    },
    deliveries: () => deliveries.map((d) => ({ ...d })),
    tokensIssued: () => tokensIssued,
    async idle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    async stop() {
      stopped = true;
      if (sampleTimer) clearInterval(sampleTimer);
      for (const [t, resolve] of timers) {
        clearTimeout(t);
        resolve();
      }
      timers.clear();
      for (const a of aborts) a.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...inflight]);
    },
  };

  if (options.sampleIntervalMs) {
    sampleTimer = setInterval(() => {
      if (listeners.length > 0) void sandbox.pushSamples(1);
    }, options.sampleIntervalMs);
    sampleTimer.unref();
  }
  log(`engage sandbox listening on ${base} (token ${base}/tokenproviderapi/token, listener API ${base}/${DEFAULT_SUFFIX}/api/V1/listener)`);
  return sandbox;
}
