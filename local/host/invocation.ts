/**
 * The local host's log: Core Tools-style lines (`[time] level scope: message`), to stdout by default.
 * Invocations log through the worker's log channel (core/worker.ts). As Azure's host, it writes what
 * the app logged as it was logged: redacting the app's secrets is the app's logger's job. The host
 * itself never prints a setting's value.
 */

export type LogSink = (line: string) => void;

/**
 * The default log sink: stdout, with the lines of one event-loop turn written together (stdout on
 * a pipe is synchronous, and three writes per HTTP request were a measurable share of its cost).
 */
export function batchedStdout(): LogSink {
  let pending: string[] = [];
  const flush = () => {
    const text = pending.join('');
    pending = [];
    process.stdout.write(text);
  };
  process.once('exit', () => pending.length && process.stdout.write(pending.join('')));
  return (line) => {
    if (pending.push(`${line}\n`) === 1) setImmediate(flush);
  };
}

export class HostLog {
  constructor(private readonly sink: LogSink) {}

  write(level: string, scope: string, message: string): void {
    this.sink(`[${new Date().toISOString()}] ${level === 'information' || level === 'info' ? 'info' : level} ${scope}: ${message}`);
  }
}
