/** Serves the real webhook handler over node:http (what the Functions host does), for the sandbox pusher to POST to. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import { handle } from '../../../shared/engage/webhook';

export interface ServedWebhook {
  url: string;
  statuses: number[];
  /** Each answer's status and how long the handler took to give it (ms), in order. */
  answers: { status: number; ms: number }[];
  logs: string[];
  stop(): Promise<void>;
}

export function webhookRequest(init: {
  method?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}): HttpRequest {
  const body = init.body === undefined ? undefined : { bytes: typeof init.body === 'string' ? Buffer.from(init.body) : init.body };
  const url = new URL('http://127.0.0.1/api/engage/webhook');
  for (const [k, v] of Object.entries(init.query ?? {})) url.searchParams.set(k, v);
  return new HttpRequest({
    method: init.method ?? 'POST',
    url: url.toString(),
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
    query: init.query ?? {},
    body,
  });
}

export function testContext(logs: string[] = []): InvocationContext {
  return new InvocationContext({
    functionName: 'engageWebhook',
    logHandler: (level, ...args) => logs.push(`${level}: ${args.map(String).join(' ')}`),
  });
}

export async function callWebhook(
  init: Parameters<typeof webhookRequest>[0],
  logs: string[] = [],
): Promise<{ status: number; text: string; json: unknown }> {
  const result = await handle(webhookRequest(init), testContext(logs));
  const res = new HttpResponse(result);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

export async function serveWebhook(): Promise<ServedWebhook> {
  const statuses: number[] = [];
  const answers: { status: number; ms: number }[] = [];
  const logs: string[] = [];
  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const request = new HttpRequest({
        method: req.method ?? 'GET',
        url: url.toString(),
        headers,
        query: Object.fromEntries(url.searchParams),
        body: chunks.length ? { bytes: Buffer.concat(chunks) } : undefined,
      });
      handle(request, testContext(logs))
        .then(async (r) => {
          const out = new HttpResponse(r);
          statuses.push(out.status);
          answers.push({ status: out.status, ms: performance.now() - started });
          res.writeHead(out.status, Object.fromEntries(out.headers.entries()));
          res.end(Buffer.from(await out.arrayBuffer()));
        })
        .catch(() => {
          statuses.push(500);
          res.writeHead(500);
          res.end();
        });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/engage/webhook`,
    statuses,
    answers,
    logs,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
