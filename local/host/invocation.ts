/**
 * The local host's log: Core Tools-style lines (`[time] level scope: message`) with secrets redacted,
 * to stdout by default. Invocations log through the worker's log channel (core/worker.ts).
 */
import { Redactor } from '../../shared/redact';

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
  private redactor: Redactor;

  constructor(
    private readonly sink: LogSink,
    secrets: string[],
  ) {
    this.redactor = new Redactor(secrets);
  }

  setSecrets(values: string[]): void {
    this.redactor = new Redactor(values);
  }

  write(level: string, scope: string, message: string): void {
    const text = this.redactor.text(message);
    this.sink(`[${new Date().toISOString()}] ${level === 'information' || level === 'info' ? 'info' : level} ${scope}: ${text}`);
  }
}
