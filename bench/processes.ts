/**
 * Child processes of the benchmark (local host, raw baseline server, cold-start probes): started
 * with `node`, ready when a line matches, output drained (kept as a short tail for errors), peak
 * RSS read from the kernel before they stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The project root (holds package.json), from a source file or its compiled copy in dist/. */
export function projectRoot(from = __dirname): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'host.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** Path of a compiled file under dist/, with a clear error when the build is missing. */
export function distFile(relative: string): string {
  const file = join(projectRoot(), 'dist', relative);
  if (!existsSync(file)) throw new Error(`${file} does not exist: run \`npm run build\` first`);
  return file;
}

/** CPU time (user + system) a live process has used so far, in ms, from /proc (Linux). */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ServiceProcess {
  pid: number;
  /** The first capture group of the ready pattern (e.g. the URL). */
  ready: string;
  /** Output lines seen so far. */
  lines(): number;
  /** Last lines of output (for error messages). */
  tail(): string;
  /** Peak resident set size in KiB (VmHWM), undefined where /proc is not available. */
  peakRssKb(): number | undefined;
  /** CPU time used so far (ms), undefined where /proc is not available. */
  cpuMs(): number | undefined;
  stop(): Promise<void>;
}

/** Peak RSS (VmHWM) of a live process in KiB, from /proc (Linux). */
export function peakRssOf(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function startService(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyPattern: RegExp,
  options: { timeoutMs?: number; cwd?: string; nodeArgs?: string[] } = {},
): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
    env,
    cwd: options.cwd ?? projectRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let count = 0;
  let tail: string[] = [];
  let partial = '';
  let resolveReady: (value: string) => void = () => undefined;
  const ready = new Promise<string>((resolve, reject) => {
    resolveReady = resolve;
    child.once('exit', (code, signal) =>
      reject(new Error(`${script} exited before it was ready (code ${code}, signal ${signal}):\n${tail.join('\n')}`)),
    );
    setTimeout(
      () => reject(new Error(`${script} was not ready within ${options.timeoutMs ?? 30_000} ms:\n${tail.join('\n')}`)),
      options.timeoutMs ?? 30_000,
    ).unref();
  });
  const onData = (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      count++;
      tail.push(line);
      if (tail.length > 40) tail = tail.slice(-20);
      const m = readyPattern.exec(line);
      if (m) resolveReady(m[1] ?? line);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let readyValue: string;
  try {
    readyValue = await ready;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  // Never outlive the benchmark (killed, or failed before it stopped us).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let stopped: Promise<void> | undefined;
  return {
    pid: child.pid!,
    ready: readyValue,
    lines: () => count,
    tail: () => tail.join('\n'),
    peakRssKb: () => peakRssOf(child.pid!),
    cpuMs: () => cpuMsOf(child.pid!),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      });
      return stopped;
    },
  };
}

/** Runs `node <args>` to completion and returns its stdout (rejects on a non-zero exit). */
export function runNode(args: string[], env: NodeJS.ProcessEnv, cwd = projectRoot()): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`node ${args.join(' ')} exited with ${code}: ${err.slice(-1000)}`)),
    );
  });
}
