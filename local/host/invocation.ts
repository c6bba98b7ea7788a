/**
 * The local host's log: Core Tools-style lines (`[time] level scope: message`) with secrets redacted,
 * to stdout by default. Invocations log through the worker's log channel (core/worker.ts).
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
  constructor(
    private readonly sink: LogSink,
    private secrets: string[],
  ) {}

  setSecrets(values: string[]): void {
    // Longest first, so a secret containing another is redacted whole.
    this.secrets = [...values].sort((a, b) => b.length - a.length);
  }

  write(level: string, scope: string, message: string): void {
    let text = message;
    for (const s of this.secrets) if (text.includes(s)) text = text.split(s).join('***');
    this.sink(`[${new Date().toISOString()}] ${level === 'information' || level === 'info' ? 'info' : level} ${scope}: ${text}`);
  }
}
