/**
 * The CLI and the local host as a newcomer meets them (issue 24, points 4 and 6): every command reads
 * local.settings.json the same way, unknown queues are refused, storage down says where and what to
 * do, `queue peek`, `subscriptions create --replace` removes the replaced subscription upstream, the
 * host alone without Azurite prints one hint, and the poison monitor prints no listener warning.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { freePort } from '../../local/ports';
import { startSandbox, type RunningSandbox } from '../../local/sandbox/startSandbox';
import { cloudEvent } from '../../shared/envelope';
import { encodeMessage } from '../../shared/queue/writer';
import { azuriteConnectionString } from '../../shared/storage';
import { REPO_ROOT } from '../helpers/app';

const CLI = join(REPO_ROOT, 'dist', 'cli', 'index.js');
let azurite: RunningAzurite;
let sandbox: RunningSandbox;
let dir: string;

function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = dir): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH, ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr }),
    );
  });
}

beforeAll(async () => {
  azurite = await startAzurite();
  sandbox = await startSandbox({ notifications: true, noojee: false });
  dir = mkdtempSync(join(tmpdir(), 'cli-first-hour-'));
  // Everything in local.settings.json, nothing in the environment: as a user configures it.
  writeFileSync(
    join(dir, 'local.settings.json'),
    JSON.stringify({ IsEncrypted: false, Values: { AzureWebJobsStorage: azurite.connectionString, ...sandbox.settings } }),
  );
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
  await azurite?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the CLI has its own settings reader (cli/ imports nothing of local/)', () => {
  const offenders = readdirSync(join(REPO_ROOT, 'cli')).filter(
    (f) => f.endsWith('.ts') && /from '\.\.\/local\//.test(readFileSync(join(REPO_ROOT, 'cli', f), 'utf8')),
  );
  expect(offenders).toEqual([]);
});

test('subscriptions create / --replace / status read local.settings.json, and --replace deletes the replaced subscription upstream', async () => {
  const created = await cli(['subscriptions', 'create']);
  expect(created).toMatchObject({ code: 0, out: expect.stringMatching(/^created subscription (\S+)/) });
  const first = /^created subscription (\S+)/.exec(created.out)![1];
  const replaced = await cli(['subscriptions', 'create', '--replace']);
  expect(replaced).toMatchObject({ code: 0, out: expect.stringContaining(`deleted the replaced subscription ${first}`) });
  const second = /^created subscription (\S+)/m.exec(replaced.out)![1];
  expect(sandbox.notifications!.subscriptionIds()).toEqual([second]);
  const status = await cli(['subscriptions', 'status']);
  expect(status).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^subscription\\s+${second}$`, 'm')) });
}, 120_000);

test('poison show / replay / purge and queue peek refuse a queue that does not exist (exit 1, the queues there)', async () => {
  const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
  await queues.getQueueClient('engage-desk').createIfNotExists();
  for (const args of [
    ['poison', 'show', '--queue', 'no-such-queue'],
    ['poison', 'replay', '--queue', 'no-such-queue'],
    ['poison', 'purge', '--queue', 'no-such-queue', '--yes'],
    ['queue', 'peek', 'no-such-queue'],
  ]) {
    const res = await cli(args);
    expect({ args, code: res.code }).toEqual({ args, code: 1 });
    expect(res.err).toMatch(
      /^error: no queue "no-such-queue" \(nor "no-such-queue-poison"\) in storage at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1; queues there: .*engage-desk/m,
    );
  }
}, 120_000);

test('queue peek <name> shows the messages of a main queue, decoded, and leaves them there', async () => {
  const q = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient('engage-visitor');
  await q.createIfNotExists();
  await q.sendMessage(
    encodeMessage(cloudEvent({ id: 'peek-1', source: '/eptura/engage', type: 'com.eptura.engage.visitor', data: [{ VisitorID: 501 }] })),
  );
  const res = await cli(['queue', 'peek', 'engage-visitor']);
  expect(res.code).toBe(0);
  expect(res.out).toMatch(/^engage-visitor: 1 message\(s\)$/m);
  expect(res.out).toContain('"id": "peek-1"');
  expect((await q.getProperties()).approximateMessagesCount).toBe(1);
}, 60_000);

test('storage down: the error names the endpoint it tried, where the setting came from, and what to do', async () => {
  const dead = await freePort();
  const down = mkdtempSync(join(tmpdir(), 'cli-down-'));
  try {
    writeFileSync(
      join(down, 'local.settings.json'),
      JSON.stringify({ Values: { AzureWebJobsStorage: azuriteConnectionString(dead, dead) } }),
    );
    const res = await cli(['status'], { ENGAGE_STORAGE_DEADLINE_MS: '3000' }, down);
    expect(res.code).toBe(1);
    expect(res.err).toContain(
      `storage did not answer at http://127.0.0.1:${dead}/devstoreaccount1 (AzureWebJobsStorage in ${join(down, 'local.settings.json')})`,
    );
    expect(res.err).toContain('`npm start` starts Azurite');
  } finally {
    rmSync(down, { recursive: true, force: true });
  }
}, 60_000);

test('the local host alone, storage not running: one hint, exit 1; --help prints the usage', async () => {
  const dead = await freePort();
  const res = await new Promise<{ code: number; out: string }>((resolve) =>
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'dist', 'local', 'host', 'main.js'), '--port', '0'],
      { env: { PATH: process.env.PATH, AzureWebJobsStorage: azuriteConnectionString(dead, dead) }, timeout: 60_000 },
      (e, so, se) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: `${so}${se}` }),
    ),
  );
  expect(res.code).toBe(1);
  expect(res.out.trim().split('\n')).toEqual([
    `storage is not running: nothing answers at 127.0.0.1:${dead} (the queue endpoint of AzureWebJobsStorage).`,
    expect.stringContaining('use `npm start`'),
  ]);
}, 60_000);

test('the poison monitor over many queues prints no MaxListenersExceededWarning', async () => {
  const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
  for (let i = 0; i < 14; i++) await queues.getQueueClient(`many-${i}`).createIfNotExists();
  await queues.getQueueClient('many-0-poison').createIfNotExists();
  // In a process of its own: Node prints the warning on the real process's stderr (Jest's sandbox does not see it).
  const script = `
    const { QueueServiceClient } = require('@azure/storage-queue');
    const { runPoisonMonitor } = require('./dist/shared/poison/monitor');
    const context = { log: () => undefined, warn: () => undefined };
    runPoisonMonitor(context, QueueServiceClient.fromConnectionString(process.env.CS))
      .then((p) => setTimeout(() => console.log('poison queues: ' + p.map((q) => q.name).join(',')), 100));`;
  const res = await new Promise<{ code: number; out: string }>((resolve) =>
    execFile(
      process.execPath,
      ['-e', script],
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH, CS: azurite.connectionString }, timeout: 60_000 },
      (e, so, se) => resolve({ code: e ? 1 : 0, out: `${so}${se}` }),
    ),
  );
  expect(res.code).toBe(0);
  expect(res.out).toContain('poison queues: many-0-poison');
  expect(res.out).not.toMatch(/MaxListenersExceededWarning|Warning/);
}, 60_000);
