/**
 * The local host as its own process (`node dist/local/host/main.js`, as `npm start` runs it) with only
 * the app's HTTP functions (`--functions`), for tests that talk raw HTTP to it and read its memory
 * from /proc. Needs `npm run build` first (as `npm test` does).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../local/ports';

/** The project root, from the source file or its compiled copy under dist/. */
const ROOT = [join(__dirname, '..', '..'), join(__dirname, '..', '..', '..')].find((d) => existsSync(join(d, 'host.json')))!;
const MAIN = join(ROOT, 'dist', 'local', 'host', 'main.js');
/** Preloaded into the host: a full GC and a heap reading on SIGUSR2 (gcOnSignal.ts). */
const GC_HOOK = join(ROOT, 'dist', 'test', 'fuzz', 'gcOnSignal.js');
/** The app's HTTP functions: the only ones the host runs here (no timers or queue consumers). */
const HTTP_FUNCTIONS = ['engageWebhook', 'health', 'occupancyApi'];

export const FUNCTION_KEY = 'fuzz-function-key';

export interface HostProcess {
  url: string;
  port: number;
  pid: number;
  /** Resident set size now, KiB (VmRSS). */
  rssKb(): number;
  /** Peak resident set size so far, KiB (VmHWM). */
  peakRssKb(): number;
  /** Live heap right after a full garbage collection in the host, MiB. */
  heapAfterGcMiB(): Promise<number>;
  exited(): boolean;
  output(): string;
  stop(): Promise<void>;
}

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} for process ${pid}`);
  return Number(m[1]);
}

export async function startHostProcess(settings: Record<string, string>): Promise<HostProcess> {
  for (const built of [MAIN, GC_HOOK]) if (!existsSync(built)) throw new Error(`${built} is missing: run "npm run build" first`);
  // An app directory of its own (no developer's local.settings.json), pointing at the built app. Not
  // test/helpers/app.ts's appDir: this file also runs compiled, from dist/ (`npm run fuzz`).
  const dir = mkdtempSync(join(tmpdir(), 'engage-host-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'engage-bridge-fuzz', main: join(ROOT, 'dist', 'app', 'main.js') }));
  writeFileSync(join(dir, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values: {} }));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--require', GC_HOOK, MAIN, '--port', String(port), '--dir', dir, ...HTTP_FUNCTIONS.flatMap((f) => ['--functions', f])],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, LOCAL_FUNCTION_KEY: FUNCTION_KEY, ...settings },
    },
  );
  let out = '';
  const keep = (c: Buffer) => {
    out += c.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  // The GC hook's readings, parsed from whole stderr lines (`out` is trimmed when it grows).
  const gcHeapBytes: number[] = [];
  let stderrLine = '';
  child.stdout.on('data', keep);
  child.stderr.on('data', (c: Buffer) => {
    keep(c);
    const lines = (stderrLine + c.toString()).split('\n');
    stderrLine = lines.pop()!;
    for (const line of lines) {
      const m = /^\[fuzz-gc \d+\] heapUsed=(\d+)/.exec(line);
      if (m) gcHeapBytes.push(Number(m[1]));
    }
  });
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  while (!/Host listening on http:\/\/127\.0\.0\.1:\d+/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`the host did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    rssKb: () => procStatus(child.pid!, 'VmRSS'),
    peakRssKb: () => procStatus(child.pid!, 'VmHWM'),
    async heapAfterGcMiB() {
      const before = gcHeapBytes.length;
      child.kill('SIGUSR2');
      const until = Date.now() + 60_000;
      while (gcHeapBytes.length === before) {
        if (child.exitCode !== null || child.signalCode !== null || Date.now() > until)
          throw new Error(`the host did not report its heap after a GC:\n${out.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return Math.round((gcHeapBytes[gcHeapBytes.length - 1] / 1024 / 1024) * 10) / 10;
    },
    exited: () => child.exitCode !== null || child.signalCode !== null,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.kill('SIGTERM');
        await exit;
        clearTimeout(force);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
