/**
 * A small round-robin HTTP front for several local host instances (`npm start -- --instances N`), the
 * local stand-in for the platform's load balancer: each request goes to the next instance; an instance
 * that refuses the connection (stopped, killed) is skipped and the request goes to the next one (the
 * request never reached it, so nothing is sent twice). Responses carry `x-local-instance: <n>`.
 * Request bodies are buffered (the instances enforce their own body limit).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FrontBackend {
  index: number;
  port: number;
}

export interface RunningFront {
  url: string;
  port: number;
  /** Requests answered by each instance index. */
  served: Map<number, number>;
  stop(): Promise<void>;
}

export async function startFront(options: { port?: number; backends: () => readonly FrontBackend[] }): Promise<RunningFront> {
  let next = 0;
  const served = new Map<number, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const backends = options.backends();
      const start = next++;
      forward(req, res, Buffer.concat(chunks), backends, start, 0, served);
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    served,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function forward(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  backends: readonly FrontBackend[],
  start: number,
  tried: number,
  served: Map<number, number>,
): void {
  if (tried >= backends.length) {
    res.writeHead(502, { 'content-type': 'text/plain' }).end('no local host instance is answering\n');
    return;
  }
  const backend = backends[(start + tried) % backends.length];
  const headers = { ...req.headers, host: `127.0.0.1:${backend.port}`, 'content-length': String(body.length) };
  delete headers['transfer-encoding'];
  const upstream = request({ host: '127.0.0.1', port: backend.port, method: req.method, path: req.url, headers }, (answer) => {
    served.set(backend.index, (served.get(backend.index) ?? 0) + 1);
    res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'x-local-instance': String(backend.index) });
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNREFUSED' && !res.headersSent) forward(req, res, body, backends, start, tried + 1, served);
    else if (!res.headersSent)
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`instance ${backend.index} failed: ${err.code ?? err.message}\n`);
    else res.destroy();
  });
  upstream.end(body);
}
