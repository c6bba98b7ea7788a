/** A raw TCP client for HTTP tests: writes exactly the bytes given, reads until the server closes. */
import { connect } from 'node:net';

export interface RawResult {
  /** Status codes of every response seen on the connection, in order. */
  statuses: number[];
  /** Everything received (latin1). */
  text: string;
  /** Body bytes the client managed to write before the connection ended. */
  written: number;
  /** How the connection ended: closed by the server (with or without an error), or by us at the timeout. */
  end: 'closed' | 'timeout';
  error?: string;
}

export interface RawOptions {
  /** Written after `head`, as fast as the socket takes it (e.g. a body stream of many MiB). */
  stream?: { total: number; chunk?: number; chunked?: boolean };
  /** Give up (and close) after this long. */
  timeoutMs?: number;
  /** Pause between the parts of `head` (slow clients). */
  gapMs?: number;
}

function statusesOf(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}

export function rawHttp(port: number, head: (string | Buffer)[] | string | Buffer, options: RawOptions = {}): Promise<RawResult> {
  const parts = Array.isArray(head) ? head : [head];
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let written = 0;
    let error: string | undefined;
    let end: RawResult['end'] = 'closed';
    const timer = setTimeout(() => {
      end = 'timeout';
      socket.destroy();
    }, options.timeoutMs ?? 10_000);
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(received).toString('latin1');
      resolve({ statuses: statusesOf(text), text, written, end, ...(error ? { error } : {}) });
    });
    const pump = () => {
      const total = options.stream?.total ?? 0;
      const data = Buffer.alloc(options.stream?.chunk ?? 64 * 1024, 0x61);
      const chunk = options.stream?.chunked
        ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')])
        : data;
      while (written < total && !socket.destroyed) {
        written += data.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    const send = async () => {
      for (let i = 0; i < parts.length; i++) {
        if (i > 0 && options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
        if (socket.destroyed) return;
        socket.write(parts[i]);
      }
      pump();
    };
    socket.once('connect', () => void send());
  });
}
