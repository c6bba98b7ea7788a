/**
 * HTTP triggers as the Functions host serves them: routes under `/api/`, route parameters
 * (`{name}`, `{name?}`, `{name:int}`), methods (405 otherwise), auth levels (`function`: a function
 * or master key in `x-functions-key` or `?code=`; `admin`: the master key) → 401, and a request body
 * limit → 413.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { HttpRequest, HttpResponse, type HttpResponseInit } from '@azure/functions';
import type { HttpFunctionDefinition } from '../../shared/definition';
import { createContext, invoke, writeOutputBindings, type HostLog } from './invocation';
import type { QueueWriter } from '../../shared/queue/writer';

export interface HttpOptions {
  functionKey: string;
  masterKey: string;
  maxBodyBytes: number;
}

interface CompiledRoute {
  def: HttpFunctionDefinition;
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

export function createHttpServer(defs: HttpFunctionDefinition[], options: HttpOptions, log: HostLog, writer: () => Promise<QueueWriter>): Server {
  const routes: CompiledRoute[] = defs.map((def) => ({ def, ...compileRoute(def.trigger.route) }));

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
    const hit = matches.find((x) => x.r.def.trigger.methods.includes(method as never));
    if (!hit) return send(res, 405, undefined, { allow: [...new Set(matches.flatMap((x) => x.r.def.trigger.methods))].join(', ') });
    const { def, params } = hit.r;

    const key = (req.headers['x-functions-key'] as string | undefined) ?? url.searchParams.get('code') ?? undefined;
    if (def.trigger.authLevel === 'function' && !keyMatches(key, options.functionKey) && !keyMatches(key, options.masterKey)) return send(res, 401);
    if (def.trigger.authLevel === 'admin' && !keyMatches(key, options.masterKey)) return send(res, 401);

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
    const request = new HttpRequest({
      method,
      url: url.toString(),
      headers,
      query: Object.fromEntries(url.searchParams),
      params: routeParams,
      body: body.length > 0 ? { bytes: body } : undefined,
    });
    const context = createContext(def, log, { Query: Object.fromEntries(url.searchParams), Headers: headers, ...routeParams });
    let result: HttpResponseInit | HttpResponse | void;
    try {
      result = await invoke(def, log, context, `This function was programmatically called via the host APIs.`, async () => {
        const r = await def.handler(request, context);
        await writeOutputBindings(def, context, writer);
        return r;
      });
    } catch {
      return send(res, 500);
    }
    if (result && !(result instanceof HttpResponse) && writePlainResult(res, result)) return;
    const response = result instanceof HttpResponse ? result : new HttpResponse(result ?? { status: 204 });
    const out = Buffer.from(await response.arrayBuffer());
    const outHeaders: Record<string, string> = {};
    response.headers.forEach((v, k) => (outHeaders[k] = v));
    res.writeHead(response.status, outHeaders);
    res.end(out);
  }
}

/**
 * Fast path for the common result shapes (no body, a string, bytes or `jsonBody`, plain headers,
 * no cookies): written directly, with the same status, headers and content type that HttpResponse
 * would produce. Returns false for anything else (streams, Headers objects, cookies...).
 */
function writePlainResult(res: ServerResponse, r: HttpResponseInit): boolean {
  if (r.cookies?.length || (r.headers !== undefined && (typeof r.headers !== 'object' || Array.isArray(r.headers) || r.headers instanceof Headers))) return false;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries((r.headers ?? {}) as Record<string, string>)) headers[k.toLowerCase()] = String(v);
  let body: string | Uint8Array | undefined;
  if (r.jsonBody !== undefined) {
    body = JSON.stringify(r.jsonBody);
    headers['content-type'] ??= 'application/json';
  } else if (typeof r.body === 'string') {
    body = r.body;
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
  } else if (r.body instanceof Uint8Array) {
    body = r.body;
  } else if (r.body !== undefined && r.body !== null) {
    return false;
  }
  res.writeHead(r.status ?? 200, headers);
  res.end(body);
  return true;
}

function send(res: ServerResponse, status: number, text?: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, text ? { 'content-type': 'text/plain; charset=utf-8', ...headers } : headers);
  res.end(text);
}
