/** A small local HTTP server answering from a script (one answer per request, in order), recording when each request arrived. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer this long after the request arrived (a long-poll). */
  delayMs?: number;
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** performance.now() when the request arrived. */
  at: number;
}

export interface ScriptedServer {
  url: string;
  requests: ReceivedRequest[];
  /** Answers for the next requests, in order; when none is left, `fallback` answers. */
  script(...answers: (ScriptedAnswer | ((req: ReceivedRequest) => ScriptedAnswer))[]): void;
  fallback: (req: ReceivedRequest) => ScriptedAnswer;
  stop(): Promise<void>;
}

export async function startScriptedServer(
  fallback: (req: ReceivedRequest) => ScriptedAnswer = () => ({ status: 404 }),
): Promise<ScriptedServer> {
  const queue: (ScriptedAnswer | ((req: ReceivedRequest) => ScriptedAnswer))[] = [];
  const state: ScriptedServer = {
    url: '',
    requests: [],
    script: (...answers) => queue.push(...answers),
    fallback,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at,
      };
      state.requests.push(received);
      const next = queue.shift() ?? state.fallback;
      const answer = typeof next === 'function' ? next(received) : next;
      const send = () => {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** Time between two recorded requests, in ms. */
export function gapMs(requests: ReceivedRequest[], from: number, to: number): number {
  return requests[to].at - requests[from].at;
}
