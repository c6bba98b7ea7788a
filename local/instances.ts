/**
 * N local host processes (`node dist/local/host/main.js`) on one storage account behind the round-robin
 * front (front.ts): what `npm start -- --instances N` runs, and what the scale-out test and bench use.
 * Every instance gets the same settings (and so the same function key); timers run on the instance that
 * holds their singleton lock (host/singleton.ts). An instance can be killed and started again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startFront, type RunningFront } from './front';
import { freePort } from './ports';
import type { RunningHost } from './host/startHost';

export interface InstanceOptions {
  count: number;
  /** Environment of every instance (settings included). */
  env: NodeJS.ProcessEnv;
  /** Port of the front (default: a free port). */
  port?: number;
  /** Project directory (`--dir`). */
  dir?: string;
  /** Only these functions run (`--functions`). */
  functions?: readonly string[];
  /** The host's entry point (default: dist/local/host/main.js next to this file). */
  hostMain?: string;
  /** Each instance's output lines, prefixed `[n]` (default: kept in memory only). */
  log?: (line: string) => void;
  startTimeoutMs?: number;
}

export interface HostInstance {
  index: number;
  port: number;
  url: string;
  child: ChildProcess;
  output(): string;
}

export interface RunningInstances {
  front: RunningFront;
  url: string;
  instances: HostInstance[];
  /** The first instance's function listing (lines `name [trigger] detail`). */
  listing: string[];
  /** Sends `signal` to instance `index` and waits for it to exit (it stays out of rotation until restarted). */
  kill(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts instance `index` again (new process, same port). */
  restart(index: number): Promise<HostInstance>;
  stop(): Promise<void>;
}

/** `--instances N` from an argument list (undefined when absent). */
export function instancesRequested(argv: readonly string[]): number | undefined {
  const i = argv.findIndex((a) => a === '--instances' || a.startsWith('--instances='));
  if (i < 0) return undefined;
  const raw = argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new Error(`--instances must be a whole number from 1 to 16 (got "${raw}")`);
  return n;
}

export async function startInstances(options: InstanceOptions): Promise<RunningInstances> {
  const hostMain = options.hostMain ?? join(__dirname, 'host', 'main.js');
  const instances: HostInstance[] = [];
  const alive = new Set<number>();
  const launch = async (index: number, port: number): Promise<HostInstance> => {
    const args = [
      hostMain,
      '--port',
      String(port),
      ...(options.dir ? ['--dir', options.dir] : []),
      ...(options.functions ?? []).flatMap((f) => ['--functions', f]),
    ];
    // Timers are singletons across the instances (host/singleton.ts) unless LOCAL_SINGLETON_LOCK says otherwise.
    const env = { ...options.env, LOCAL_SINGLETON_LOCK: options.env.LOCAL_SINGLETON_LOCK ?? 'true' };
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let partial = '';
    const onData = (c: Buffer) => {
      const text = c.toString();
      output += text;
      if (!options.log) return;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) options.log(`[${index}] ${l}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const instance: HostInstance = { index, port, url: `http://127.0.0.1:${port}`, child, output: () => output };
    const timeout = options.startTimeoutMs ?? 60_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`instance ${index} did not start within ${timeout} ms:\n${output}`)), timeout);
      const check = () => {
        if (output.includes(`Host listening on http://127.0.0.1:${port}`)) {
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolve();
        }
      };
      child.stdout.on('data', check);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`instance ${index} exited (${code ?? signal}) before listening:\n${output}`));
      });
    });
    child.once('exit', () => alive.delete(index));
    alive.add(index);
    instances[index] = instance;
    return instance;
  };

  const ports = await Promise.all(Array.from({ length: options.count }, () => freePort()));
  const started = await Promise.allSettled(ports.map((p, i) => launch(i, p)));
  const front = await startFront({ port: options.port, backends: () => instances.filter((i) => i && alive.has(i.index)) });
  const running: RunningInstances = {
    front,
    url: front.url,
    instances,
    listing: [],
    async kill(index, signal = 'SIGTERM') {
      const inst = instances[index];
      if (!inst || inst.child.exitCode !== null || inst.child.signalCode !== null) return;
      alive.delete(index);
      await new Promise<void>((resolve) => {
        inst.child.once('exit', () => resolve());
        inst.child.kill(signal);
      });
    },
    restart: (index) => launch(index, instances[index].port),
    async stop() {
      await front.stop();
      await Promise.all(instances.map((_, i) => running.kill(i, 'SIGTERM')));
    },
  };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await running.stop();
    throw failed.reason;
  }
  // The listing follows "Host listening" on stdout, possibly in later chunks: read it once it stops growing.
  const listing = () =>
    instances[0]
      .output()
      .split('\n')
      .filter((l) => /^ {2}\S+ \[/.test(l))
      .map((l) => l.trim());
  for (let i = 0, last = -1; i < 20 && listing().length !== last; i++) {
    last = listing().length;
    await new Promise((r) => setTimeout(r, 100));
  }
  running.listing = listing();
  return running;
}

/**
 * `npm start -- --instances N`: the N instances behind the front, as a RunningHost (the front's URL; the
 * function listing of the first instance with its URL replaced by the front's).
 */
export async function startScaledHost(
  count: number,
  options: { port?: number; functionKey: string; settings: Record<string, string>; log: (line: string) => void },
): Promise<RunningHost> {
  const masterKey = process.env.LOCAL_MASTER_KEY || randomBytes(24).toString('base64url');
  const running = await startInstances({
    count,
    port: options.port,
    env: { ...process.env, ...options.settings, LOCAL_FUNCTION_KEY: options.functionKey, LOCAL_MASTER_KEY: masterKey },
    log: options.log,
  });
  const first = running.instances[0].url;
  const functions = running.listing.flatMap((l) => {
    const m = /^(\S+) \[(\w+)\] (.*)$/.exec(l);
    return m && m[2] !== 'error' ? [{ name: m[1], trigger: m[2], detail: `${m[3].split(first).join(running.url)}` }] : [];
  });
  const errors = running.listing.flatMap((l) => {
    const m = /^(\S+) \[error\] (.*)$/.exec(l);
    return m ? [{ name: m[1], error: m[2] }] : [];
  });
  options.log(
    `  ${count} host instances (ports ${running.instances.map((i) => i.port).join(', ')}) behind the round-robin front ${running.url}; timers run on the instance holding their lock`,
  );
  return {
    url: running.url,
    port: running.front.port,
    functionKey: options.functionKey,
    masterKey,
    functions,
    errors,
    stop: () => running.stop(),
  };
}
