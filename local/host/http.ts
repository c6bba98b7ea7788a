/**
 * HTTP triggers as the Functions host serves them: routes under `/api/`, route parameters
 * (`{name}`, `{name?}`, `{name:int}`), methods (405 otherwise), auth levels (`function`: a function
 * or master key in `x-functions-key` or `?code=`; `admin`: the master key) → 401, and a request body
 * limit → 413.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { RpcHttpData } from './core/types';
import type { HostLog } from './invocation';
import type { HttpResult } from './rpc';

export interface HttpOptions {
  functionKey: string;
  masterKey: string;
  maxBodyBytes: number;
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
    params.push(name!);
    const value = catchAll ? '(.+)' : constraint === 'int' ? '(-?\\d+)' : constraint === 'alpha' ? '([A-Za-z]+)' : constraint === 'bool' ? '(true|false)' : constraint === 'guid' ? '([0-9a-fA-F-]{36})' : '([^/]+)';
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

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.write('error', 'host', `HTTP pipeline failure: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
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

    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBodyBytes) {
      req.resume();
      return send(res, 413, `Request body too large (limit ${options.maxBodyBytes} bytes)`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > options.maxBodyBytes) {
        req.resume();
        return send(res, 413, `Request body too large (limit ${options.maxBodyBytes} bytes)`);
      }
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);

    const routeParams: Record<string, string> = {};
    params.forEach((name, i) => {
      const v = hit.m![i + 1];
      if (v !== undefined) routeParams[name] = decodeURIComponent(v);
    });
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

function send(res: ServerResponse, status: number, text?: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, text ? { 'content-type': 'text/plain; charset=utf-8', ...headers } : headers);
  res.end(text);
}
