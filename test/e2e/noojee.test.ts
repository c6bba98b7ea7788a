/**
 * Noojee end to end: the local Functions host as its own process (`node dist/local/host/main.js`,
 * build first) running callEvents / callCommands against the Noojee sandbox and Azurite. The host is
 * SIGKILLed between long-poll responses and restarted: it resumes from the stored seq, no event missed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { freePort } from '../../local/ports';
import { startNoojeeSandbox, type RunningNoojeeSandbox } from '../../local/sandbox/noojee/noojeeSandbox';
import { appDir } from '../helpers/app';
import { encodeMessage } from '../../shared/queue/writer';
import { drainQueue, queueDepth, waitFor, type DecodedMessage } from '../helpers/queues';
import { expectMatchesContract } from '../helpers/contract';

const ROOT = join(__dirname, '..', '..');
const HOST_MAIN = join(ROOT, 'dist', 'local', 'host', 'main.js');
const EVENTS = 'noojee-e2e-events';
const COMMANDS = 'noojee-e2e-commands';

let azurite: RunningAzurite;
let sandbox: RunningNoojeeSandbox;
let dir: string;
let host: { child: ChildProcess; output: () => string } | undefined;
const received = new Map<string, DecodedMessage>();

async function startHostProcess(): Promise<{ child: ChildProcess; output: () => string }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AzureWebJobsStorage: azurite.connectionString,
    NOOJEE_BASE_URL: sandbox.url,
    NOOJEE_API_KEY: sandbox.apiKey,
    NOOJEE_EXTENSIONS: '400,410',
    NOOJEE_EVENTS_QUEUE: EVENTS,
    NOOJEE_COMMANDS_QUEUE: COMMANDS,
    NOOJEE_SCHEDULE: '*/2 * * * * *',
    NOOJEE_RUN_SECONDS: '30',
    NOOJEE_POLL_TIMEOUT_SECONDS: '5',
    NOOJEE_HTTP_TIMEOUT_MARGIN_MS: '1000',
    NOOJEE_RETRY_DELAY_MS: '100',
    NOOJEE_ANSWER_STRING: 'Call-info:answer-after=0',
  };
  // Only the functions under test run in this host.
  const child = spawn(
    process.execPath,
    [HOST_MAIN, '--port', String(port), '--dir', dir, '--functions', 'callEvents', '--functions', 'callCommands'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor(
    () => output.includes(`Host listening on http://127.0.0.1:${port}`) || child.exitCode !== null,
    'the host to start',
    20_000,
    50,
  );
  if (child.exitCode !== null) throw new Error(`host exited (${child.exitCode}):\n${output}`);
  return { child, output: () => output };
}

async function killHost(signal: NodeJS.Signals): Promise<void> {
  const h = host;
  host = undefined;
  if (!h || h.child.exitCode !== null || h.child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    h.child.once('exit', () => resolve());
    h.child.kill(signal);
  });
}

/** Collects every message of the events queue so far (by envelope id) and returns the ids. */
async function collect(): Promise<string[]> {
  for (const m of await drainQueue(azurite.connectionString, EVENTS)) {
    expectMatchesContract('noojee-call-events', m.body);
    received.set((m.body as { id: string }).id, m);
  }
  return [...received.keys()];
}

beforeAll(async () => {
  if (!existsSync(HOST_MAIN)) throw new Error(`${HOST_MAIN} is missing: run \`npx tsc -p tsconfig.json\` (npm test builds first)`);
  // Fast queue polling and retries so that the command tests take seconds.
  dir = appDir('noojee-e2e-', {
    'host.json': {
      version: '2.0',
      extensions: { queues: { maxPollingInterval: '00:00:00.200', visibilityTimeout: '00:00:00', maxDequeueCount: 3, batchSize: 16 } },
    },
  });
  [azurite, sandbox] = await Promise.all([startAzurite(), startNoojeeSandbox()]);
});

afterAll(async () => {
  await killHost('SIGKILL');
  await sandbox?.stop();
  await azurite?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('a host killed between responses resumes from the stored seq after restart, with no event missed', async () => {
  const firstPoll = sandbox.nextSubscribe((s) => s.lastSequenceNumber === 8, 20_000);
  host = await startHostProcess();
  await firstPoll; // the current state was read (seq 8) and stored
  const afterSample = sandbox.nextSubscribe((s) => s.lastSequenceNumber === 10);
  sandbox.playSeedSample(1);
  await afterSample; // events enqueued, cursor 10 stored, the next long-poll is open
  await waitFor(async () => (await collect()).length >= 2, 'the first sample call in the queue');

  await killHost('SIGKILL'); // mid-poll, between two responses
  sandbox.playSeedSample(2);
  const legs = sandbox.scriptCall({ from: '410', to: '400', outcome: 'no-answer', ringMs: 20 });
  await waitFor(() => sandbox.seq >= 17, 'the scripted call to finish while the host is down');

  const resumed = sandbox.nextSubscribe(() => true, 20_000);
  host = await startHostProcess();
  expect((await resumed).lastSequenceNumber).toBe(10); // the stored cursor, not 0 and not the newest

  const expected = [
    '1412749510.488:Hungup:410:6aef02b028cf',
    '1412749517.489:Hungup:400:257fb89e7bac',
    '1412749525.490:Busy',
    `${legs.caller}:Dialing Out`,
    `${legs.callee}:Ringing`,
    `${legs.caller}:No Answer`,
    `${legs.callee}:No Answer`,
    `${legs.caller}:Hungup`,
    `${legs.callee}:Hungup`,
  ];
  await waitFor(async () => (await collect()).length >= expected.length, `${expected.length} call events`, 20_000);
  const ids = [...received.keys()];
  expect(ids).toHaveLength(expected.length);
  for (const e of expected) expect(ids.some((id) => id === e || id.startsWith(`${e}:`))).toBe(true);
  // Ids come from the events themselves (<call>:<status>:<extension>:<digest>), not from the answer's seq.
  expect(ids.every((id) => /:[0-9]+:[0-9a-f]{12}$/.test(id))).toBe(true);
  const busy = received.get(ids.find((id) => id.startsWith('1412749525.490:Busy:'))!)!.body as Record<string, unknown>;
  expect(busy).toMatchObject({ specversion: '1.0', type: 'com.noojee.call.busy', subject: '400', source: '/noojee/call-management' });
});

it('a callCommands answer reaches Noojee with the right fields; an invalid command ends in poison', async () => {
  host ??= await startHostProcess();
  const legs = sandbox.scriptCall({ from: '400', to: '410', answerBy: 'command', talkMs: 60_000 });
  const queue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(COMMANDS);
  await queue.createIfNotExists();
  await queue.sendMessage(encodeMessage({ action: 'answer', uniqueId: legs.callee, exten: 'SIP/410' }));
  const answer = await waitFor(
    () => sandbox.commands.find((c) => c.method === 'answer' && c.params.uniqueId === legs.callee),
    'the answer command at the sandbox',
  );
  expect(answer.params).toEqual({ uniqueId: legs.callee, exten: 'SIP/410', answerString: 'Call-info:answer-after=0' });
  expect(answer.response).toEqual({ Message: 'Call answered', Code: 0 });
  // The answer shows up as Connected events through callEvents.
  await waitFor(
    async () => (await collect()).some((id) => id.startsWith(`${legs.callee}:Connected:`)),
    'the Connected event of the answered call',
  );

  await queue.sendMessage(encodeMessage({ action: 'transfer', to: '420' }));
  await waitFor(
    async () => (await queueDepth(azurite.connectionString, `${COMMANDS}-poison`)) === 1,
    'the invalid command in the poison queue',
    20_000,
  );
  expect(host.output()).toContain('invalid call command: action: action must be one of answer, hangup, dial');
  expect(host.output()).not.toContain(sandbox.apiKey);
  await killHost('SIGKILL');
});
