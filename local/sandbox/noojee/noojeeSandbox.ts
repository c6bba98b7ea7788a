/**
 * Noojee CallManagementAPI sandbox (seed 003, UPSTREAM-RESEARCH.md §3): `POST
 * /servicemanager/rest/CallManagementAPI/{subscribe,answer,hangup,dial}` with parameters in the
 * form body or the query string, `apiKey` checked, `Code` 0 / negative in every answer.
 *
 * subscribe: answers at once when events newer than `lastSequenceNumber` exist on the requested
 * extensions, otherwise when one occurs, otherwise after `timeOut` seconds (default 10) with
 * `{"Data":{},"seq":<current>,"Code":0}`. `lastSequenceNumber=0` (or one the sandbox never issued)
 * answers at once with the current state: each extension's latest event.
 *
 * Controls, in process and under `/_sandbox/` (JSON): scripted calls, the seed's sample calls, raw
 * events, faults (drop the connection mid-poll, 5xx, slow answers); the received commands and
 * subscribes are recorded for tests. `traffic` generates calls periodically (for `npm start`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import {
  CallModel,
  SEED_SAMPLE_CALLS,
  stripTech,
  type CallLegs,
  type CallOutcome,
  type EventInput,
  type SandboxEvent,
  type ScriptedCallOptions,
} from './calls';

export type { CallLegs, CallOutcome, EventInput, ScriptedCallOptions } from './calls';

export interface NoojeeSandboxOptions {
  port?: number;
  host?: string;
  /** The API key the sandbox accepts (default `sandbox-noojee-key`). */
  apiKey?: string;
  /** seq before the first event (default 8, so the seed's first sample answers with seq 10). */
  initialSeq?: number;
  /** Generate realistic calls between these extensions every `intervalMs`. */
  traffic?: { intervalMs: number; extensions?: string[] };
  log?: (line: string) => void;
}

export interface RecordedSubscribe {
  exten: string[];
  lastSequenceNumber: number;
  timeOut: number;
  at: string;
}

export interface RecordedCommand {
  method: 'answer' | 'hangup' | 'dial';
  /** Parameters as received, `apiKey` removed. */
  params: Record<string, string>;
  response: Record<string, unknown>;
  at: string;
}

export interface FaultSettings {
  /** The next N subscribes are accepted, then their connection is destroyed after `dropAfterMs`. */
  drop?: number;
  dropAfterMs?: number;
  /** The next N API calls answer HTTP `status` (default 503) with an HTML body. */
  fail?: number;
  status?: number;
  /** Every API answer is delayed by this much (0 = off). */
  slowMs?: number;
}

export interface RunningNoojeeSandbox {
  url: string;
  port: number;
  apiKey: string;
  /** The current (latest issued) seq. */
  readonly seq: number;
  readonly subscribes: RecordedSubscribe[];
  readonly commands: RecordedCommand[];
  /** Raw bodies of the subscribe answers sent, in order. */
  readonly subscribeAnswers: string[];
  /** Appends events (answered together to a waiting subscriber); returns the new seq. */
  emit(events: readonly EventInput[]): number;
  /** Emits the seed's sample call 1 (the documented response) or 2; returns the new seq. */
  playSeedSample(call: 1 | 2): number;
  scriptCall(options: ScriptedCallOptions): CallLegs;
  setFaults(faults: FaultSettings): void;
  clearFaults(): void;
  /** Resolves with the first subscribe (from now on) matching `predicate`. */
  nextSubscribe(predicate?: (s: RecordedSubscribe) => boolean, timeoutMs?: number): Promise<RecordedSubscribe>;
  stop(): Promise<void>;
}

const API_PREFIX = '/servicemanager/rest/CallManagementAPI/';

export async function startNoojeeSandbox(options: NoojeeSandboxOptions = {}): Promise<RunningNoojeeSandbox> {
  const apiKey = options.apiKey ?? 'sandbox-noojee-key';
  const log = options.log ?? (() => undefined);
  const model = new CallModel(options.initialSeq ?? 8);
  const subscribes: RecordedSubscribe[] = [];
  const commands: RecordedCommand[] = [];
  const subscribeAnswers: string[] = [];
  const faults = { drop: 0, dropAfterMs: 100, fail: 0, status: 503, slowMs: 0 };
  const subscribeListeners = new Set<(s: RecordedSubscribe) => void>();
  const sockets = new Set<Socket>();
  const pending = new Set<() => void>();
  const delayed = new Set<NodeJS.Timeout>();

  const setFaults = (f: FaultSettings) => {
    if (f.drop !== undefined) faults.drop = f.drop;
    if (f.dropAfterMs !== undefined) faults.dropAfterMs = f.dropAfterMs;
    if (f.fail !== undefined) faults.fail = f.fail;
    if (f.status !== undefined) faults.status = f.status;
    if (f.slowMs !== undefined) faults.slowMs = f.slowMs;
  };
  const clearFaults = () => Object.assign(faults, { drop: 0, dropAfterMs: 100, fail: 0, status: 503, slowMs: 0 });

  const send = (res: ServerResponse, status: number, body: string, type = 'application/json') => {
    const write = () => {
      if (res.destroyed || res.writableEnded) return;
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (faults.slowMs <= 0) return write();
    const t = setTimeout(() => {
      delayed.delete(t);
      write();
    }, faults.slowMs);
    delayed.add(t);
  };
  const sendJson = (res: ServerResponse, status: number, value: unknown) => send(res, status, JSON.stringify(value));

  function subscribeAnswer(events: readonly SandboxEvent[]): string {
    // Built by hand: JSON.stringify would put numeric-looking extension keys in ascending order,
    // Noojee keeps them in event order (the seed's sample lists 410 before 400).
    const byExten = new Map<string, SandboxEvent['entry'][]>();
    for (const e of events) {
      const list = byExten.get(e.exten) ?? [];
      list.push(e.entry);
      byExten.set(e.exten, list);
    }
    const data = [...byExten].map(([exten, list]) => `${JSON.stringify(exten)}:${JSON.stringify(list)}`).join(',');
    return `{"Data":{${data}},"seq":${model.seq},"Code":0}`;
  }

  function subscribe(params: Record<string, string>, req: IncomingMessage, res: ServerResponse): void {
    const exten = (params.exten ?? '')
      .split(',')
      .map((e) => stripTech(e.trim()))
      .filter(Boolean);
    const last = Number(params.lastSequenceNumber);
    const timeOut = params.timeOut === undefined || params.timeOut === '' ? 10 : Number(params.timeOut);
    if (exten.length === 0) return sendJson(res, 200, { Message: 'exten is mandatory', Code: -2 });
    if (params.lastSequenceNumber === undefined || !Number.isInteger(last) || last < 0) {
      return sendJson(res, 200, { Message: 'lastSequenceNumber is mandatory (0 on the first call)', Code: -3 });
    }
    if (!Number.isFinite(timeOut) || timeOut < 0) return sendJson(res, 200, { Message: 'timeOut must be a number of seconds', Code: -4 });
    const recorded: RecordedSubscribe = { exten, lastSequenceNumber: last, timeOut, at: new Date().toISOString() };
    subscribes.push(recorded);
    for (const l of [...subscribeListeners]) l(recorded);

    if (faults.drop > 0) {
      faults.drop--;
      log(`noojee sandbox: dropping subscribe (lastSequenceNumber ${last}) after ${faults.dropAfterMs} ms`);
      const t = setTimeout(() => {
        delayed.delete(t);
        req.socket.destroy();
      }, faults.dropAfterMs);
      delayed.add(t);
      req.socket.once('close', () => {
        clearTimeout(t);
        delayed.delete(t);
      });
      return;
    }
    const answer = (events: readonly SandboxEvent[]) => {
      const body = subscribeAnswer(events);
      subscribeAnswers.push(body);
      send(res, 200, body);
    };
    if (last === 0 || last > model.seq) return answer(model.currentState(exten));
    const ready = model.since(last, exten);
    if (ready.length > 0 || timeOut === 0) return answer(ready);

    let finished = false;
    const finish = (events: readonly SandboxEvent[] | undefined) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      unwatch();
      pending.delete(abandon);
      if (events) answer(events);
    };
    const abandon = () => finish(undefined);
    const unwatch = model.watch(() => {
      const events = model.since(last, exten);
      if (events.length > 0) finish(events);
    });
    const timer = setTimeout(() => finish([]), timeOut * 1000);
    pending.add(abandon);
    res.once('close', abandon);
  }

  function command(method: RecordedCommand['method'], params: Record<string, string>, res: ServerResponse): void {
    let response: Record<string, unknown>;
    if (method === 'answer') {
      if (!params.uniqueId || !params.exten) response = { Message: 'uniqueId and exten are mandatory', Code: -2 };
      else
        response = model.answer(params.uniqueId)
          ? { Message: 'Call answered', Code: 0 }
          : { Message: `No ringing call with uniqueId ${params.uniqueId}`, Code: -1 };
    } else if (method === 'hangup') {
      if (!params.extenOrUniqueId) response = { Message: 'extenOrUniqueId is mandatory', Code: -2 };
      else
        response = model.hangup(params.extenOrUniqueId)
          ? { Message: 'Channel Hungup', Code: 0 }
          : { Message: `No active channel for ${params.extenOrUniqueId}`, Code: -1 };
    } else {
      if (!params.number || !params.extenOrUniqueId) response = { Message: 'number and extenOrUniqueId are mandatory', Code: -2 };
      else if (!params.extenOrUniqueId.includes('/'))
        response = { Message: 'extenOrUniqueId must include the technology, e.g. SIP/100', Code: -3 };
      else {
        response = { SessionID: randomUUID(), Message: 'Dialing', Code: 0 };
        if (params.monitored === 'yes') {
          model.emit([
            {
              exten: stripTech(params.extenOrUniqueId),
              callData: {
                callerId: params.number,
                uniqueCallId: model.newChannelId(),
                isClickToDialCall: true,
                inbound: false,
                status: 'Dialing Out',
              },
            },
          ]);
        }
      }
    }
    commands.push({ method, params, response, at: new Date().toISOString() });
    log(`noojee sandbox: ${method} ${JSON.stringify(params)} → Code ${String(response.Code)}`);
    sendJson(res, 200, response);
  }

  async function api(method: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'POST')
      return send(res, 405, '<html><body><h1>HTTP Status 405 - Method Not Allowed</h1></body></html>', 'text/html');
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    const text = await readBody(req);
    if (text) for (const [k, v] of new URLSearchParams(text)) params[k] = v;
    if (faults.fail > 0) {
      faults.fail--;
      return send(res, faults.status, `<html><body><h1>HTTP Status ${faults.status}</h1></body></html>`, 'text/html');
    }
    if (params.apiKey !== apiKey) return sendJson(res, 200, { Message: 'Invalid apiKey', Code: -1 });
    delete params.apiKey;
    if (method === 'subscribe') return subscribe(params, req, res);
    if (method === 'answer' || method === 'hangup' || method === 'dial') return command(method, params, res);
    send(res, 404, '<html><body><h1>HTTP Status 404 - Not Found</h1></body></html>', 'text/html');
  }

  async function control(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = req.method === 'POST' ? parseJson(await readBody(req)) : undefined;
    const route = `${req.method} ${path}`;
    switch (route) {
      case 'GET /_sandbox/state':
        return sendJson(res, 200, {
          seq: model.seq,
          subscribes: subscribes.length,
          commands: commands.length,
          activeCalls: model.activeCalls(),
          faults,
        });
      case 'GET /_sandbox/subscribes':
        return sendJson(res, 200, subscribes);
      case 'GET /_sandbox/commands':
        return sendJson(res, 200, commands);
      case 'POST /_sandbox/events': {
        const events = (body as { events?: EventInput[] } | undefined)?.events;
        if (!Array.isArray(events) || events.some((e) => typeof e?.exten !== 'string' || typeof e?.callData?.status !== 'string')) {
          return sendJson(res, 400, { error: 'body must be {"events":[{"exten":"400","callData":{"status":"Ringing",...}}]}' });
        }
        return sendJson(res, 200, { seq: model.emit(events) });
      }
      case 'POST /_sandbox/seed-samples': {
        const call = (body as { call?: number } | undefined)?.call;
        if (call !== undefined && call !== 1 && call !== 2) return sendJson(res, 400, { error: 'call must be 1 or 2 (omit for both)' });
        const seqs = (call ? [call] : [1, 2]).map((c) => playSeedSample(c as 1 | 2));
        return sendJson(res, 200, { seq: seqs[seqs.length - 1] });
      }
      case 'POST /_sandbox/calls': {
        const b = (body ?? {}) as Partial<ScriptedCallOptions>;
        if (
          typeof b.from !== 'string' ||
          typeof b.to !== 'string' ||
          (b.outcome !== undefined && !['answered', 'busy', 'no-answer'].includes(b.outcome))
        ) {
          return sendJson(res, 400, {
            error:
              'body must be {"from":"400","to":"410","outcome"?:"answered|busy|no-answer","ringMs"?,"talkMs"?,"answerBy"?:"auto|command"}',
          });
        }
        return sendJson(res, 200, model.scriptCall(b as ScriptedCallOptions));
      }
      case 'POST /_sandbox/faults':
        setFaults(body ?? {});
        return sendJson(res, 200, faults);
      case 'DELETE /_sandbox/faults':
        clearFaults();
        return sendJson(res, 200, faults);
      default:
        return sendJson(res, 404, { error: `no sandbox control ${route}` });
    }
  }

  function playSeedSample(call: 1 | 2): number {
    return model.emit(SEED_SAMPLE_CALLS[call - 1]);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const handle = url.pathname.startsWith(API_PREFIX)
      ? api(url.pathname.slice(API_PREFIX.length), req, res, url)
      : url.pathname.startsWith('/_sandbox/')
        ? control(url.pathname, req, res)
        : Promise.resolve(send(res, 404, '<html><body><h1>HTTP Status 404 - Not Found</h1></body></html>', 'text/html'));
    handle.catch((err: unknown) => sendJson(res, 500, { error: (err as Error).message }));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  let traffic: NodeJS.Timeout | undefined;
  if (options.traffic) {
    const exts = options.traffic.extensions ?? ['400', '410', '420'];
    traffic = setInterval(() => {
      if (exts.length < 2) return;
      const from = exts[Math.floor(Math.random() * exts.length)];
      const others = exts.filter((e) => e !== from);
      const to = others[Math.floor(Math.random() * others.length)];
      const r = Math.random();
      const outcome: CallOutcome = r < 0.7 ? 'answered' : r < 0.85 ? 'busy' : 'no-answer';
      model.scriptCall({
        from,
        to,
        outcome,
        ringMs: 2000 + Math.floor(Math.random() * 3000),
        talkMs: 5000 + Math.floor(Math.random() * 25_000),
      });
    }, options.traffic.intervalMs);
    traffic.unref();
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    apiKey,
    get seq() {
      return model.seq;
    },
    subscribes,
    commands,
    subscribeAnswers,
    emit: (events) => model.emit(events),
    playSeedSample,
    scriptCall: (o) => model.scriptCall(o),
    setFaults,
    clearFaults,
    nextSubscribe(predicate = () => true, timeoutMs = 20_000) {
      return new Promise<RecordedSubscribe>((resolve, reject) => {
        const t = setTimeout(() => {
          subscribeListeners.delete(listener);
          reject(new Error(`no matching subscribe within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = (s: RecordedSubscribe) => {
          if (!predicate(s)) return;
          clearTimeout(t);
          subscribeListeners.delete(listener);
          resolve(s);
        };
        subscribeListeners.add(listener);
      });
    },
    async stop() {
      if (traffic) clearInterval(traffic);
      model.stop();
      for (const abandon of [...pending]) abandon();
      for (const t of delayed) clearTimeout(t);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
