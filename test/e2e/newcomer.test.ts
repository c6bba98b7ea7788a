/**
 * A newcomer's first hour, as a test: a fresh copy of the repository (no dist/, no .azurite/,
 * node_modules linked as `npm ci` would leave it), the README's consumer example saved as the file
 * it names, then `npm start` through npm as a real child process in its own process group (as in a
 * terminal). The banner's curl lands an event, the consumer processes it, `npm run cli -- status`
 * reports the queues, a second `npm start` says the first is running, and both Ctrl-C (SIGINT to the
 * process group) and SIGTERM to the npm process leave no process and no port behind, and nothing
 * printed a warning.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createServer } from 'node:net';
import { portIsFree } from '../../local/ports';
import { SANDBOX_PORTS } from '../../local/sandbox/startSandbox';
import { REPO_ROOT } from '../helpers/app';
import { waitFor } from '../helpers/queues';
import { codeBlocks } from '../docs/markdown';

const SKIP = new Set(['node_modules', 'dist', '.azurite', '.git', 'coverage', 'local.settings.json']);

interface Started {
  npm: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let copy: string;
const started: Started[] = [];

function npmStart(env: NodeJS.ProcessEnv = {}): Started {
  const npm = spawn('npm', ['start'], {
    cwd: copy,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'dumb', ...env },
  });
  let out = '';
  npm.stdout.on('data', (c: Buffer) => (out += c.toString()));
  npm.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const s = { npm, output: () => out, exited };
  started.push(s);
  return s;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: copy, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 180_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** Processes whose command line or working directory is in the copy (start.js, the host, Azurite). */
function processesOfCopy(): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  const found: string[] = [];
  for (const line of ps.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m || Number(m[1]) === process.pid) continue;
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${m[1]}/cwd`);
    } catch {
      /* gone or not ours */
    }
    if (m[2].includes(copy) || cwd === copy || cwd.startsWith(`${copy}/`)) found.push(line.trim());
  }
  return found;
}

/** The ports a banner names (host, Azurite, sandbox). */
function bannerPorts(banner: string): number[] {
  return [...new Set([...banner.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])))];
}

/** Lines that are warnings (npm's, Node's, the host's), not our own "note:" lines. */
function warnings(out: string): string[] {
  return out.split('\n').filter((l) => /\bwarn(ing)?\b|Warning|could not record|ECONNREFUSED|Terminated/i.test(l) && !/^\s*note: /.test(l));
}

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'newcomer-'));
  cpSync(REPO_ROOT, copy, { recursive: true, filter: (src) => !SKIP.has(relative(REPO_ROOT, src).split('/')[0]) });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  // The README's consumer example, saved where it says.
  const block = codeBlocks(REPO_ROOT, 'README.md').find((b) => b.marker?.startsWith('consumer '))!;
  writeFileSync(join(copy, block.marker!.slice('consumer '.length)), block.code);
});

afterAll(async () => {
  for (const s of started) {
    if (s.npm.exitCode === null && s.npm.signalCode === null) {
      try {
        process.kill(-s.npm.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  for (const line of processesOfCopy()) {
    try {
      process.kill(Number(line.split(/\s+/)[0]), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(copy, { recursive: true, force: true });
});

async function banner(s: Started): Promise<string> {
  await waitFor(
    () => s.output().includes('Ctrl-C stops everything.') || s.npm.exitCode !== null,
    'npm start to print its banner',
    240_000,
    200,
  );
  expect(s.output()).toContain('engage-bridge is running locally');
  return s.output();
}

async function expectAllGone(s: Started, ports: number[], expected?: RegExp): Promise<void> {
  const exit = await s.exited;
  expect(exit).toEqual({ code: 0, signal: null });
  await waitFor(() => processesOfCopy().length === 0 || undefined, 'every process of npm start to exit', 30_000, 200).catch(
    () => undefined,
  );
  expect(processesOfCopy()).toEqual([]);
  const busy: number[] = [];
  for (const p of ports) if (!(await portIsFree(p))) busy.push(p);
  expect(busy).toEqual([]);
  expect(s.output()).toMatch(/stopping host, sandbox and Azurite\.\.\.\n[\s\S]*^stopped\.$/m);
  expect(warnings(s.output()).filter((l) => !expected?.test(l))).toEqual([]);
}

test('fresh copy: npm start, the banner curl lands an event, the consumer runs, status reports it, Ctrl-C leaves nothing behind', async () => {
  const first = npmStart();
  const out = await banner(first);
  const ports = bannerPorts(out.slice(out.indexOf('engage-bridge is running locally')));
  expect(ports.length).toBeGreaterThanOrEqual(5); // host, Azurite blob + queue, three simulators
  expect(out).toMatch(/client id sandbox-client, password sandbox-password/);

  // The banner's curl, copied as is.
  const curl = /^\s*(curl -sS .*)$/m.exec(out)![1];
  const posted = await run('sh', ['-c', curl]);
  expect(posted).toEqual({ code: 0, out: expect.stringContaining('"messages":1') });
  await waitFor(() => first.output().includes('visitor 501 Arrived'), 'the README consumer to process the posted event', 60_000, 200);

  // The CLI, the documented way, reading the same storage (the banner says how if Azurite moved).
  const moved = /export AzureWebJobsStorage='([^']+)'/.exec(out);
  const status = await run('npm', ['run', 'cli', '--', 'status'], moved ? { AzureWebJobsStorage: moved[1] } : {});
  expect(status.code).toBe(0);
  expect(status.out).toMatch(/^\s+engage-visitor\s+\d+$/m);
  expect(status.out).toContain('Queues (approximate depth):');

  // A second npm start in the same folder says the first one runs (and does not start).
  const second = npmStart();
  const secondExit = await second.exited;
  expect(secondExit.code).not.toBe(0);
  expect(second.output()).toMatch(
    new RegExp(`npm start is already running in this folder \\(pid \\d+, host http://127\\.0\\.0\\.1:${ports[0]}\\)`),
  );

  // Ctrl-C in the terminal: SIGINT to the whole foreground process group.
  process.kill(-first.npm.pid!, 'SIGINT');
  await expectAllGone(first, ports);
}, 600_000);

test("the user's ENGAGE_SIGNATURE_MODE wins; SIGTERM to the npm process stops start.js, the host and Azurite, and frees the ports", async () => {
  // A restart on the data the first run kept in .azurite/: still no warning (but the one log mode exists for).
  const s = npmStart({ ENGAGE_SIGNATURE_MODE: 'log' });
  const out = await banner(s);
  const ports = bannerPorts(out.slice(out.indexOf('engage-bridge is running locally')));
  expect(out).toContain('(ENGAGE_SIGNATURE_MODE=log)');
  // An unsigned post (the banner's curl without its ms-signature header) is accepted in log mode.
  const unsigned = /^\s*(curl -sS .*)$/m.exec(out)![1].replace(/ -H 'ms-signature: [^']*'/, '');
  expect(await run('sh', ['-c', unsigned])).toEqual({ code: 0, out: expect.stringContaining('"messages":1') });
  await waitFor(
    () => /Executed 'Functions\.occupancy\w+' \(Succeeded/.test(s.output()) || undefined,
    'a consumer to run on a sandbox push',
    60_000,
    200,
  );
  process.kill(s.npm.pid!, 'SIGTERM');
  // The one warning is the one log mode exists for: the unsigned post, accepted.
  await expectAllGone(s, ports, /ms-signature missing \(ENGAGE_SIGNATURE_MODE=log, accepted\)/);
}, 600_000);

test('npm start says when a port it prefers is taken, and which one it uses instead; SIGINT to the npm process stops it all', async () => {
  // Hold the Engage sandbox's port (if someone else already holds it, it is taken all the same).
  const blocker = createServer();
  await new Promise<void>((resolve) => {
    blocker.once('error', () => resolve());
    blocker.listen(SANDBOX_PORTS.engage, '127.0.0.1', () => resolve());
  });
  try {
    const s = npmStart();
    const out = await banner(s);
    const note = new RegExp(
      `^\\s*note: port ${SANDBOX_PORTS.engage} \\(Engage sandbox\\) is taken by another program; using (\\d+) instead$`,
      'm',
    ).exec(out);
    expect(note).not.toBeNull();
    expect(out).toContain(`Sandbox Engage   http://127.0.0.1:${note![1]}`);
    const ports = bannerPorts(out.slice(out.indexOf('engage-bridge is running locally')));
    // `kill -INT <npm pid>` (the npm process only, not its group) stops everything too.
    process.kill(s.npm.pid!, 'SIGINT');
    await expectAllGone(s, ports);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
}, 600_000);
