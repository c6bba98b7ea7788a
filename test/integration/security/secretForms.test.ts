/**
 * Issue 20.3: secrets echoed in a changed form (upper case, base64 / base64url also inside a longer
 * encoded text, hex, split by whitespace or an escaped line break) stay out of every sink, run as in
 * Azure (no host redaction): the function log lines, the last-run records in the checkpoint container
 * (`checkpoints/*\/last-run.json`), telemetry (span exception events and status) and the CLI's output
 * (`status`, `subscriptions status`).
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvocationContext } from '@azure/functions';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { resetConfig } from '../../../shared/config/settings';
import { runCallEvents } from '../../../shared/noojee/callEvents';
import { LAST_RUN_BLOB as NOOJEE_LAST_RUN } from '../../../shared/noojee/cursor';
import { LAST_RUN_BLOB as DRAIN_LAST_RUN } from '../../../shared/notificationApiV2/defaults';
import { runNotificationsDrain } from '../../../shared/notificationApiV2/run';
import { JsonBlobStore } from '../../../shared/state/jsonBlobStore';
import { getStorage } from '../../../shared/storage';
import { inSpan } from '../../../shared/telemetry';
import { startTestTelemetry, type TestTelemetry } from '../../helpers/telemetry';
import { echoForms, leaksSecret } from '../../unit/security/echoForms';

const SECRETS = { noojeeApiKey: 'nj-forms-apikey-Uv1Wx0Yz9Q', v2ClientSecret: 'v2-forms-secret-Qw8Zr4TnLp' };
const FORMS = Object.keys(echoForms('x'.repeat(24)));
/** The form the fake upstream echoes the credential it received in. */
let form = FORMS[0];

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

let server: Server;
let base: string;
let azurite: RunningAzurite;
let telemetry: TestTelemetry;
let cliDir: string;
const saved = { ...process.env };

function leaks(text: string): string[] {
  return Object.entries(SECRETS).flatMap(([name, secret]) => leaksSecret(text, secret).map((how) => `${name} (${how})`));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void formBody(req).then((body) => {
      const path = (req.url ?? '').split('?')[0];
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (path === '/v2/token')
        return json(401, { error: 'invalid_client', error_description: echoForms(body.get('client_secret') ?? '')[form] });
      if (path.endsWith('/CallManagementAPI/subscribe')) return json(200, { Code: -1, Message: echoForms(body.get('apiKey') ?? '')[form] });
      json(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  azurite = await startAzurite();
  telemetry = startTestTelemetry();
  cliDir = mkdtempSync(join(tmpdir(), 'secret-forms-'));
  process.env = {
    ...saved,
    AzureWebJobsStorage: azurite.connectionString,
    NOOJEE_BASE_URL: base,
    NOOJEE_API_KEY: SECRETS.noojeeApiKey,
    NOOJEE_EXTENSIONS: '400',
    NOOJEE_RUN_SECONDS: '2',
    NOOJEE_POLL_TIMEOUT_SECONDS: '1',
    NOTIFICATIONS_API_BASE_URL: `${base}/v2`,
    NOTIFICATIONS_TOKEN_URL: `${base}/v2/token`,
    NOTIFICATIONS_CLIENT_ID: 'reader',
    NOTIFICATIONS_CLIENT_SECRET: SECRETS.v2ClientSecret,
    NOTIFICATIONS_EVENT_TYPE_IDS: '101',
    NOTIFICATIONS_RETRY_ATTEMPTS: '0',
  };
  resetConfig();
}, 60_000);

afterAll(async () => {
  process.env = saved;
  resetConfig();
  await telemetry?.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await azurite?.stop();
  rmSync(cliDir, { recursive: true, force: true });
});

describe.each(FORMS)('an upstream echoing the credential in form "%s"', (name) => {
  test('log lines and both last-run records carry the error without the secret', async () => {
    form = name;
    const lines: string[] = [];
    const context = new InvocationContext({ functionName: 'f', logHandler: (level, ...args) => lines.push(`${level}: ${args.join(' ')}`) });
    await expect(runCallEvents(context)).rejects.toThrow(/Code -1/);
    await runNotificationsDrain(context);
    const checkpoints = new JsonBlobStore(await getStorage(), 'checkpoints');
    const noojeeRun = (await checkpoints.read<{ error?: string }>(NOOJEE_LAST_RUN))?.value;
    const drainRun = (await checkpoints.read<{ error?: string }>(DRAIN_LAST_RUN))?.value;
    expect(noojeeRun?.error).toMatch(/Code -1/);
    expect(drainRun?.error).toMatch(/invalid_client|401/);
    expect(leaks(JSON.stringify([noojeeRun, drainRun]))).toEqual([]);
    expect(lines.some((l) => /Code -1/.test(l))).toBe(true);
    expect(leaks(lines.join('\n'))).toEqual([]);
  });

  test('telemetry: a failed span records the exception and status without the secret', async () => {
    telemetry.reset();
    const echo = Object.values(SECRETS)
      .map((s) => echoForms(s)[name])
      .join(' / ');
    await expect(
      inSpan(`echo ${name}`, {}, async () => {
        throw new Error(`upstream said: ${echo}`);
      }),
    ).rejects.toThrow(/upstream said/);
    const span = telemetry.span(`echo ${name}`);
    const recorded = JSON.stringify({ status: span.status, events: span.events.map((e) => e.attributes), attributes: span.attributes });
    expect(recorded).toContain('upstream said');
    expect(leaks(recorded)).toEqual([]);
  });
});

/** Runs the built CLI with the secrets configured; stdout and stderr together. */
async function cli(args: string[]): Promise<string> {
  const bin = join(__dirname, '..', '..', '..', 'dist', 'cli', 'index.js');
  if (!existsSync(bin)) throw new Error('dist/cli/index.js is missing: run `npm run build` first');
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AzureWebJobsStorage: azurite.connectionString,
    NOOJEE_API_KEY: SECRETS.noojeeApiKey,
    NOTIFICATIONS_API_BASE_URL: `${base}/v2`,
    NOTIFICATIONS_TOKEN_URL: `${base}/v2/token`,
    NOTIFICATIONS_CLIENT_ID: 'reader',
    NOTIFICATIONS_CLIENT_SECRET: SECRETS.v2ClientSecret,
  };
  return new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: cliDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr.on('data', (c: Buffer) => (text += c.toString()));
    child.once('error', reject);
    child.once('exit', () => resolve(text));
  });
}

test('CLI `status` and `subscriptions status` print last runs that echo secrets (e.g. saved by an older version) without them', async () => {
  // Last runs as an older version (or another writer) might have saved them: every form of both secrets.
  const echo = Object.values(SECRETS)
    .flatMap((s) => Object.values(echoForms(s)))
    .join(' | ');
  const checkpoints = new JsonBlobStore(await getStorage(), 'checkpoints');
  const now = new Date().toISOString();
  await checkpoints.write(NOOJEE_LAST_RUN, { startedAt: now, finishedAt: now, events: 0, error: `Noojee failed: ${echo}` });
  await checkpoints.write(DRAIN_LAST_RUN, { startedAt: now, finishedAt: now, drained: 0, error: `drain failed: ${echo}` });
  expect(leaks(echo).length).toBeGreaterThan(0); // the planted text does leak
  for (const args of [['status'], ['subscriptions', 'status']]) {
    const out = await cli(args);
    expect({ args, mentionsRun: /failed: /.test(out) }).toEqual({ args, mentionsRun: true });
    expect({ args, leaks: leaks(out) }).toEqual({ args, leaks: [] });
  }
}, 60_000);
