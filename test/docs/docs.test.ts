/**
 * The docs run as written: every fenced block of README.md and docs/*.md is classified by a
 * `<!-- doc-test: ... -->` line (cli | consumer <file> | not runnable here: <reason> | not a command: <what>),
 * the CLI blocks run line by line through `npm run cli --` against Azurite and the upstream sandbox
 * (exit 0, the documented output), the consumer example is copied into a temporary app and processes
 * an event posted with the banner's curl, and every relative link resolves.
 * docs/deploy.md is the exception, by file: each of its blocks runs against an Azure subscription.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { freePort } from '../../local/ports';
import { startSandbox, type RunningSandbox } from '../../local/sandbox/startSandbox';
import { sampleCurl } from '../../local/start';
import { cloudEvent } from '../../shared/envelope';
import { encodeMessage } from '../../shared/queue/writer';
import { REPO_ROOT } from '../helpers/app';
import { buildUserApp } from '../helpers/userApp';
import { waitFor } from '../helpers/queues';
import { codeBlocks, headingAnchors, markdownFiles, relativeLinks, runnableCliLine } from './markdown';

/** Files whose blocks all need Azure (deploy.md: azd, az, Key Vault, a deployed app). */
const AZURE_ONLY = new Map([['docs/deploy.md', 'every command runs against an Azure subscription (azd, az, a deployed app)']]);

/** What each documented CLI command prints on success. */
const OUTPUT_SHAPE: [RegExp, RegExp][] = [
  [/^status\b/, /Queues \(approximate depth\):/],
  [/^notifications quarantine list\b/, /^(Nothing in quarantine\.|\S+ {2})/m],
  [/^queue peek engage-visitor\b/, /^engage-visitor: \d+ message\(s\)/m],
  [/^queue peek engage-desk\b/, /^engage-desk: \d+ message\(s\)/m],
  [/^listeners register\b/, /^registered listener for /m],
  [/^listeners list\b/, /^\d+ listener\(s\) for /m],
  [/^listeners unregister\b/, /^unregistered listener #\S+ \(DESK\)/m],
  [/^listeners reconcile\b/, /^reconciled: \d+ registered, \d+ removed, \d+ unchanged/m],
  [/^subscriptions create\b/, /^created subscription \S+/m],
  [/^subscriptions status\b/, /^subscription\s+\S+/m],
  [/^subscriptions delete\b/, /^deleted subscription \S+/m],
  [/^poison list\b/, /^engage-desk-poison\s+\d+/m],
  [/^poison show\b/, /^engage-desk-poison: \d+ message\(s\)/m],
  [/^poison replay\b/, /^replayed \d+ message\(s\) from engage-desk-poison to engage-desk/m],
  [/^poison purge\b/, /^purged \d+ message\(s\) from engage-desk-poison/m],
  [/^archive find\b/, /^\d+ record\(s\) in \d+ blob\(s\) of engage-bridge-archive/m],
  [/^archive replay\b.*--dry-run/, /^dry run: would replay \d+ message\(s\) to engage-desk /m],
  [/^archive replay\b/, /^replayed \d+ message\(s\) to engage-desk /m],
];

const KINDS = /^(cli|consumer \S+|not runnable here: .+|not a command: .+)$/;

function run(command: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd: REPO_ROOT, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

test('every code block of README.md and docs/*.md says whether and how it runs', () => {
  const problems: string[] = [];
  for (const file of markdownFiles(REPO_ROOT)) {
    if (AZURE_ONLY.has(file)) continue;
    for (const b of codeBlocks(REPO_ROOT, file)) {
      if (!b.marker) problems.push(`${file}:${b.line}: no <!-- doc-test: ... --> line above the block`);
      else if (!KINDS.test(b.marker)) problems.push(`${file}:${b.line}: unknown doc-test kind "${b.marker}"`);
    }
  }
  expect(problems).toEqual([]);
  // The README's consumer example and its CLI blocks are among them.
  const readme = codeBlocks(REPO_ROOT, 'README.md');
  expect(readme.filter((b) => b.marker?.startsWith('consumer ')).length).toBeGreaterThanOrEqual(1);
  expect(readme.filter((b) => b.marker === 'cli').length).toBeGreaterThanOrEqual(3);
});

test('every relative link of README.md and docs/*.md resolves (file and heading)', () => {
  const problems: string[] = [];
  for (const file of markdownFiles(REPO_ROOT)) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    for (const link of relativeLinks(text)) {
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path ? join(REPO_ROOT, dirname(file), path) : join(REPO_ROOT, file);
      if (!target.startsWith(REPO_ROOT) || !existsSync(target)) {
        problems.push(`${file}: ${link} does not exist in the repository`);
        continue;
      }
      if (anchor && target.endsWith('.md') && !headingAnchors(readFileSync(target, 'utf8')).has(anchor))
        problems.push(`${file}: ${link}: no such heading`);
    }
  }
  expect(problems).toEqual([]);
});

test('inline commands: `npm run contract -- --check` and the host --help answer as documented', async () => {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  const contract = await run('node dist/contract/generate.js --check', env);
  expect(contract).toEqual({ code: 0, out: expect.stringMatching(/^contract: \d+ file\(s\) up to date with the code$/m) });
  const help = await run('node dist/local/host/main.js --help', env);
  expect(help).toEqual({ code: 0, out: expect.stringMatching(/^Usage: node dist\/local\/host\/main\.js/) });
}, 60_000);

describe('against Azurite and the sandbox', () => {
  let azurite: RunningAzurite;
  let sandbox: RunningSandbox;
  let env: NodeJS.ProcessEnv;
  let webhookUrl: string;
  const secret = 'doc-test-webhook-secret';
  const functionKey = 'doc-test-function-key';
  let hostPort: number;
  let app: string | undefined;
  let host: ChildProcess | undefined;

  beforeAll(async () => {
    azurite = await startAzurite();
    hostPort = await freePort();
    webhookUrl = `http://127.0.0.1:${hostPort}/api/engage/webhook?code=${functionKey}`;
    sandbox = await startSandbox({ engage: { webhookUrl, secret }, notifications: true, noojee: false });
    env = { PATH: process.env.PATH, HOME: process.env.HOME, AzureWebJobsStorage: azurite.connectionString, ...sandbox.settings };
    const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
    for (const [name, event] of [
      [
        'engage-visitor',
        cloudEvent({ id: 'doc-visitor-1', source: '/eptura/engage', type: 'com.eptura.engage.visitor', data: [{ VisitorID: 7 }] }),
      ],
      ['engage-desk', cloudEvent({ id: 'doc-desk-1', source: '/eptura/engage', type: 'com.eptura.engage.desk', data: [{ BookingID: 1 }] })],
      [
        'engage-desk-poison',
        cloudEvent({ id: 'doc-desk-2', source: '/eptura/engage', type: 'com.eptura.engage.desk', data: [{ BookingID: 2 }] }),
      ],
    ] as const) {
      const q = queues.getQueueClient(name);
      await q.createIfNotExists();
      await q.sendMessage(encodeMessage(event));
    }
  }, 120_000);

  afterAll(async () => {
    if (host && host.exitCode === null && host.signalCode === null) {
      const exited = new Promise((resolve) => host!.once('exit', resolve));
      host.kill('SIGTERM');
      await exited;
    }
    await sandbox?.stop();
    await azurite?.stop();
    if (app) rmSync(app, { recursive: true, force: true });
  });

  test('each CLI line of the README exits 0 with the documented output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'doc-cli-'));
    const desired = join(dir, 'desired.json');
    writeFileSync(desired, JSON.stringify({ listeners: [{ notificationUrl: webhookUrl, eventTypes: ['DESK', 'MEETINGEXTERNAL'] }] }));
    const lines = codeBlocks(REPO_ROOT, 'README.md')
      .filter((b) => b.marker === 'cli')
      .flatMap((b) => b.code.split('\n').map((l) => ({ l: l.trim(), at: `README.md:${b.line}` })))
      .filter(({ l }) => l && !l.startsWith('#'));
    expect(lines.length).toBeGreaterThanOrEqual(14);
    const ran: string[] = [];
    try {
      for (const { l, at } of lines) {
        expect(l).toMatch(/^npm run cli -- /); // the one documented way, everywhere
        const values: Record<string, string> = { 'webhook url': quote(webhookUrl), 'desired.json': quote(desired) };
        if (l.includes('<listenerId>')) {
          const listed = await run(`node dist/cli/index.js listeners list --json --url ${quote(webhookUrl)}`, env);
          const json = listed.out.slice(listed.out.indexOf('['));
          const desk = (JSON.parse(json) as { listenerId?: string | number; eventType?: number }[]).find((x) => x.eventType === 2);
          values.listenerId = String(desk?.listenerId);
        }
        const command = runnableCliLine(l, values);
        const res = await run(command, env);
        const args = command.replace(/^npm run cli -- /, '');
        const shape = OUTPUT_SHAPE.find(([cmd]) => cmd.test(args));
        ran.push(args);
        expect({ at, command, code: res.code }).toEqual({ at, command, code: 0 });
        expect(shape).toBeDefined();
        expect({ at, command, out: res.out }).toEqual({ at, command, out: expect.stringMatching(shape![1]) });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(ran).toEqual(
      expect.arrayContaining([
        'status',
        'queue peek engage-visitor',
        expect.stringMatching(/^poison replay/),
        expect.stringMatching(/^listeners unregister/),
      ]),
    );
  }, 300_000);

  test("the README's consumer example, copied into an app, processes the event the banner's curl posts", async () => {
    const block = codeBlocks(REPO_ROOT, 'README.md').find((b) => b.marker?.startsWith('consumer '))!;
    const file = block.marker!.slice('consumer '.length); // functions/visitorLog.ts
    const name = /export const (\w+) = defineConsumer/.exec(block.code)![1];
    app = buildUserApp('doc-consumer-', file, block.code);

    let out = '';
    host = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'dist', 'local', 'host', 'main.js'),
        '--port',
        String(hostPort),
        '--dir',
        app,
        '--functions',
        name,
        '--functions',
        'engageWebhook',
      ],
      {
        env: {
          PATH: process.env.PATH,
          AzureWebJobsStorage: azurite.connectionString,
          LOCAL_FUNCTION_KEY: functionKey,
          ENGAGE_WEBHOOK_SECRET: secret,
          ENGAGE_SIGNATURE_MODE: 'enforce',
          ENGAGE_DECODER: 'base64-json',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    host.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    host.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(() => out.includes(`${name} [storageQueue]`) || host!.exitCode !== null, 'the host to start', 60_000, 50);
    expect(out).toContain(`${name} [storageQueue] queue engage-visitor`);

    const curl = await run(sampleCurl(webhookUrl, secret), {});
    expect(curl).toEqual({ code: 0, out: expect.stringContaining('"messages":1') });
    await waitFor(() => out.includes('visitor 501 Arrived'), 'the consumer to handle the posted event', 60_000, 50);
    expect(out).toMatch(new RegExp(`info Functions\\.${name}: visitor 501 Arrived \\(event readme-curl-1:0\\)`));
    expect(out).not.toMatch(/does not match its schema|Executed '[^']+' \(Failed/);
  }, 180_000);
});
