/**
 * HTTP triggers as the Functions host serves them: routes under `/api/`, route parameters
 * (`{name}`, `{name?}`, `{name:int}`), methods (405 otherwise), auth levels (`function`: a function
 * or master key in `x-functions-key` or `?code=`; `admin`: the master key) → 401, and a request body
 * limit → 413.
 *
 * Malformed HTTP is answered as Node's HTTP server and Azure's front end (HTTP.sys) answer it, never
 * with a 500: Node's parser refuses bad request lines, headers and chunking (400), oversized headers
 * (431) and requests not received within the header / request timeouts (408); a malformed `Host` or
 * request target (bad percent-encoding) gets HTTP.sys's 400. A response sent before the request body
 * was read (401, 404, 405, 413) closes the connection instead of reading on, and a connection cap
 * refuses connections beyond it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { z } from 'zod';
import { intSetting, parseHostSettings } from './settings';
import type { RpcHttpData } from './core/types';
import type { HostLog } from './invocation';
import type { HttpResult } from './rpc';

/** The local host's HTTP settings (README settings table). */
export const httpSettings = z
  .object({
    /** Largest request body (bytes); larger → 413. */
    LOCAL_HTTP_MAX_BODY_BYTES: intSetting(1024 * 1024, 1024, 1024 * 1024 * 1024),
    /** Time to receive the request line and headers (ms); later → 408 (Node's `headersTimeout`). */
    LOCAL_HTTP_HEADERS_TIMEOUT_MS: intSetting(20_000, 100, 600_000),
    /** Time to receive the whole request, body included (ms); later → 408 (Node's `requestTimeout`). */
    LOCAL_HTTP_REQUEST_TIMEOUT_MS: intSetting(60_000, 100, 3_600_000),
    /** Open connections at most; further ones are closed at once (Node's `maxConnections`). */
    LOCAL_HTTP_MAX_CONNECTIONS: intSetting(512, 1, 100_000),
  })
  .refine((s) => s.LOCAL_HTTP_HEADERS_TIMEOUT_MS <= s.LOCAL_HTTP_REQUEST_TIMEOUT_MS, {
    message: 'must not exceed LOCAL_HTTP_REQUEST_TIMEOUT_MS',
    path: ['LOCAL_HTTP_HEADERS_TIMEOUT_MS'],
  });

export type HttpSettings = z.infer<typeof httpSettings>;

/** Reads the settings above (HostSettingsError naming each bad one). */
export function readHttpSettings(env: NodeJS.ProcessEnv = process.env): HttpSettings {
  return parseHostSettings(httpSettings, env);
}

export interface HttpOptions {
  functionKey: string;
  masterKey: string;
  maxBodyBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
}

/** An HTTP-triggered function as the host indexed it; `invoke` runs it through the worker (rpc.ts). */
export interface HttpEndpoint {
  name: string;
  route: string;
  methods: string[];
  authLevel: string;
  invoke(request: RpcHttpData): Promise<HttpResult>;
}

interface CompiledRoute {
  def: HttpEndpoint;
  pattern: RegExp;
  params: string[];
}

export function compileRoute(route: string): { pattern: RegExp; params: string[] } {
  const params: string[] = [];
  const parts = route.replace(/^\/+|\/+$/g, '').split('/');
  let source = '';
  for (const part of parts) {
    const m = /^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::(int|alpha|guid|bool))?(\?)?\}$/.exec(part);
    if (!m) {
      source += `/${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
      continue;
    }
    const [, catchAll, name, constraint, optional] = m;
    params.push(name);
    const value = catchAll
      ? '(.+)'
      : constraint === 'int'
        ? '(-?\\d+)'
        : constraint === 'alpha'
          ? '([A-Za-z]+)'
          : constraint === 'bool'
            ? '(true|false)'
            : constraint === 'guid'
              ? '([0-9a-fA-F-]{36})'
              : '([^/]+)';
    source += optional ? `(?:/${value})?` : `/${value}`;
  }
  return { pattern: new RegExp(`^${source}/?$`, 'i'), params };
}

function keyMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createHttpServer(defs: HttpEndpoint[], options: HttpOptions, log: HostLog): Server {
  const routes: CompiledRoute[] = defs.map((def) => ({ def, ...compileRoute(def.route) }));

  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      // How often Node checks those timeouts (its default, 30 s, would let them overrun by as much).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(options.headersTimeoutMs / 4))),
    },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        log.write('error', 'host', `HTTP pipeline failure: ${err instanceof Error ? err.message : String(err)}`);
        if (res.headersSent) res.destroy();
        else send(res, 500); // a failure of the host itself: never for the client's input
      });
    },
  );
  server.maxConnections = options.maxConnections;
  let dropped = 0;
  let droppedLogAt = 0;
  server.on('drop', () => {
    dropped++;
    if (Date.now() - droppedLogAt < 10_000) return;
    droppedLogAt = Date.now();
    log.write('warning', 'host', `${dropped} connection(s) refused so far: LOCAL_HTTP_MAX_CONNECTIONS=${options.maxConnections} are open`);
  });
  return server;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    if (typeof url === 'string') return send(res, 400, url);
    if (!url.pathname.startsWith('/api/') && url.pathname !== '/') return send(res, 404);
    if (url.pathname === '/') return send(res, 200, 'engage-bridge local Functions host is running');
    const path = url.pathname.slice('/api'.length);
    const matches = routes.map((r) => ({ r, m: r.pattern.exec(path) })).filter((x) => x.m);
    if (matches.length === 0) return send(res, 404);
    const method = (req.method ?? 'GET').toUpperCase();
    const hit = matches.find((x) => x.r.def.methods.includes(method));
    if (!hit) return send(res, 405, undefined, { allow: [...new Set(matches.flatMap((x) => x.r.def.methods))].join(', ') });
    const { def, params } = hit.r;

    const key = (req.headers['x-functions-key'] as string | undefined) ?? url.searchParams.get('code') ?? undefined;
    if (def.authLevel === 'function' && !keyMatches(key, options.functionKey) && !keyMatches(key, options.masterKey)) return send(res, 401);
    if (def.authLevel === 'admin' && !keyMatches(key, options.masterKey)) return send(res, 401);

    const routeParams: Record<string, string> = {};
    try {
      params.forEach((name, i) => {
        const v = hit.m![i + 1];
        if (v !== undefined) routeParams[name] = decodeURIComponent(v);
      });
    } catch {
      return send(res, 400, INVALID_URL); // percent-encoding of something that is not UTF-8
    }

    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBodyBytes)
      return send(res, 413, `Request body too large (limit ${options.maxBodyBytes} bytes)`);
    const body = await readBody(req, options.maxBodyBytes);
    if (body === 'aborted') return; // the client went away, or Node answered 408 and closed
    if (body === 'too-large') return send(res, 413, `Request body too large (limit ${options.maxBodyBytes} bytes)`);

    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    let result: HttpResult;
    try {
      result = await def.invoke({
        method,
        url: url.toString(),
        headers,
        query: Object.fromEntries(url.searchParams),
        params: routeParams,
        body: body.length > 0 ? { bytes: body } : undefined,
      });
    } catch {
      return send(res, 500);
    }
    res.writeHead(result.status, result.headers);
    res.end(result.body);
  }
}

/** HTTP.sys's answers (Azure's front end) for a malformed Host header or request target. */
const INVALID_HOSTNAME = 'Bad Request - Invalid Hostname';
const INVALID_URL = 'Bad Request - Invalid URL';
/** RFC 9110 `Host = uri-host [ ":" port ]`: an IP literal or a reg-name (unreserved, sub-delims, pct-encoded). */
const HOST_HEADER = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d{0,5})?$/;
/** A `%` not followed by two hex digits. */
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/** The request's URL, or the 400 text when its Host header or target is malformed. */
function requestUrl(req: IncomingMessage): URL | string {
  const host = req.headers.host ?? '127.0.0.1'; // Node itself answers 400 to HTTP/1.1 without Host
  if (!HOST_HEADER.test(host)) return INVALID_HOSTNAME;
  const target = req.url ?? '/';
  const query = target.indexOf('?');
  if (BAD_PERCENT.test(query < 0 ? target : target.slice(0, query))) return INVALID_URL;
  try {
    const url = new URL(target, `http://${host}`);
    new Request(url); // what the request handed to the app is built from: e.g. `//u@x/` (user info) is refused there
    return url;
  } catch {
    return INVALID_URL;
  }
}

/**
 * Reads the request body, up to `limit` bytes. 'too-large' leaves the rest unread (the answer then
 * closes the connection); 'aborted' when the client went away or Node timed the request out.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (result: Buffer | 'too-large' | 'aborted') => {
      req.off('data', onData).off('end', onEnd).off('error', onAborted).off('close', onAborted);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.pause();
      settle('too-large');
    };
    const onEnd = () => settle(Buffer.concat(chunks));
    const onAborted = () => settle('aborted');
    req.on('data', onData).on('end', onEnd).on('error', onAborted).on('close', onAborted);
  });
}

/**
 * Writes a short answer. When the request still has a body on the wire (an early 401, 404, 405 or
 * 413), the answer says `Connection: close` and the connection is closed once it is sent, so the
 * body is not read on and a keep-alive client opens a new connection for its next request.
 */
function send(res: ServerResponse, status: number, text?: string, headers: Record<string, string> = {}): void {
  const out: Record<string, string> = text ? { 'content-type': 'text/plain; charset=utf-8', ...headers } : { ...headers };
  if (hasUnreadBody(res.req)) {
    out.connection = 'close';
    if (res.socket) lingerOnClose(res.socket);
  }
  res.writeHead(status, out);
  res.end(text);
}

/** How long a closing connection waits, not reading, before it is destroyed (Go's net/http waits 500 ms). */
const LINGER_MS = 500;

/**
 * After a `Connection: close` answer Node ends the socket and destroys it at once. Destroying it
 * with request bytes still arriving makes the kernel send a reset, which can discard the answer
 * before the client has read it. So: end our side (the client sees the answer, then end of stream),
 * stop reading, and destroy the socket a moment later.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function (this: Socket) {
    this.pause();
    this.end();
    setTimeout(() => this.destroy(), LINGER_MS).unref();
  };
}

function hasUnreadBody(req: IncomingMessage): boolean {
  if (req.complete || req.readableEnded) return false;
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}
