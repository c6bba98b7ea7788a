/**
 * Fault check (issue 8): no configured secret value ever appears in a log line or CLI output.
 *
 * The whole stack runs with known, distinctive secret values: Azurite (its account key is in the
 * connection string), the Engage, Notification API and Noojee sandboxes, and the local host with
 * every function of the app. Traffic goes through each path, including failures: the Engage listener
 * CLI (register, list; bad password, upstream 5xx) and the sandbox pusher delivering to the webhook;
 * the webhook itself (valid, bad signature, bad/missing function key, invalid bodies, storage down); the v2 drain
 * (normal, upstream 5xx, rotated client secret = bad credentials, storage down), Noojee call events
 * and commands (normal, upstream 5xx, storage down), and the CLI commands that exist (normal and
 * with bad credentials / storage down). Captured: every host log line (the `log` option), the
 * sandboxes' request logs, the CLI's stdout and stderr, and anything written to this process's
 * stdout/stderr/console. Access tokens the sandboxes issued are checked as well (Engage session
 * tokens are read through a recording proxy in front of the token endpoint). The local host
 * redacts configured secrets from its log as `***`, but Azure's host does not: a redacted host line
 * therefore counts as a leak too.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { startHost, type RunningHost } from '../../local/host/startHost';
import { startNotificationsSandbox, type NotificationsSandbox } from '../../local/sandbox/notificationApiV2/notificationsSandbox';
import { startNoojeeSandbox, type RunningNoojeeSandbox } from '../../local/sandbox/noojee/noojeeSandbox';
import { startEngageSandbox, type EngageSandbox } from '../../local/sandbox/engage/engageSandbox';
import { ADMINISTRATOR_SCOPE, CONSUMER_SCOPE } from '../../shared/notificationApiV2/defaults';
import { encodeBase64Json } from '../../shared/engage/decoder';
import { signBody } from '../../shared/engage/signature';
import { encodeMessage } from '../../shared/queue/writer';
import { resetConfig } from '../../shared/config/settings';
import { queueDepth, waitFor } from '../helpers/queues';
import { sampleTriggerSettings } from '../helpers/app';

/** Distinctive values (letters, digits and dashes only, so URL- or form-encoding leaves them unchanged). */
const SECRETS = {
  ENGAGE_WEBHOOK_SECRET: 'whsec-e2e-K7q2Vn9xPz4Lm8Rt',
  ENGAGE_PASSWORD: 'engpw-e2e-Hy3Ud8Qw1Zs6Ck2J',
  ENGAGE_SUBSCRIPTION_KEY: 'engsub-e2e-Tm5Nb7Xc4Vf9Gd1E',
  NOTIFICATIONS_CLIENT_SECRET: 'v2sec-e2e-Wp6Ko3Ly8Jh2Df5S',
  NOTIFICATIONS_PASSWORD: 'v2pw-e2e-Rq9Ae4Zt7Ux1Cm3B',
  NOOJEE_API_KEY: 'nj-e2e-Bv2Fx8Hn5Sk1Pq7W',
  LOCAL_FUNCTION_KEY: 'fnkey-e2e-Gc4Yw9Mr2Tb6Ln8Q',
} as const;
/** The v2 client secret after the sandbox "rotates" it: our configured one is then wrong. */
const ROTATED_V2_SECRET = 'v2rot-e2e-Jd7Ls2Qx9Ne4Hv6A';
/** A wrong secret given to one CLI run (bad credentials); it must not be echoed either. */
const WRONG_CLI_SECRET = 'v2bad-e2e-Ux3Kp8Wm1Rz5Ty2F';
const WRONG_ENGAGE_PASSWORD = 'engbad-e2e-Pn4Wq7Ks2Xd9Mc5R';
const V2_CLIENT_ID = 'e2e-reader';
const ENGAGE_CLIENT_ID = 'e2e-engage-client';
const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

interface Captured {
  source: string;
  text: string;
}
const captured: Captured[] = [];
const capture = (source: string) => (text: string) => captured.push({ source, text });

let azurite: RunningAzurite;
let v2: NotificationsSandbox;
let noojee: RunningNoojeeSandbox;
let engage: EngageSandbox;
let engageTokenProxy: Server;
let engageTokenUrl: string;
let host: RunningHost;
let cliDir: string;
const issuedTokens: string[] = [];
const engageTokens: string[] = [];
const savedEnv = { ...process.env };
const restoreSpies: (() => void)[] = [];

const hostLines = () => captured.filter((c) => c.source === 'host').map((c) => c.text);
const hostLogHas = (pattern: RegExp) => hostLines().some((l) => pattern.test(l));

function settings(): Record<string, string> {
  return {
    AzureWebJobsStorage: azurite.connectionString,
    ENGAGE_WEBHOOK_SECRET: SECRETS.ENGAGE_WEBHOOK_SECRET,
    ENGAGE_SIGNATURE_MODE: 'enforce',
    ENGAGE_DECODER: 'base64-json',
    // Listener API (the CLI's listener commands); the token endpoint through the recording proxy.
    ENGAGE_BASE_URL: engage.url,
    ENGAGE_API_SUFFIX: engage.apiSuffix,
    ENGAGE_TOKEN_URL: engageTokenUrl,
    ENGAGE_CLIENT_ID: ENGAGE_CLIENT_ID,
    ENGAGE_PASSWORD: SECRETS.ENGAGE_PASSWORD,
    ENGAGE_SUBSCRIPTION_KEY: SECRETS.ENGAGE_SUBSCRIPTION_KEY,
    NOTIFICATIONS_API_BASE_URL: v2.url,
    NOTIFICATIONS_CLIENT_ID: V2_CLIENT_ID,
    NOTIFICATIONS_CLIENT_SECRET: SECRETS.NOTIFICATIONS_CLIENT_SECRET,
    NOTIFICATIONS_PASSWORD: SECRETS.NOTIFICATIONS_PASSWORD,
    NOTIFICATIONS_EVENT_TYPE_IDS: '101,301',
    NOTIFICATIONS_SCHEDULE: '*/1 * * * * *',
    NOTIFICATIONS_RUN_ON_STARTUP: 'true',
    NOTIFICATIONS_RETRY_ATTEMPTS: '1',
    NOTIFICATIONS_RETRY_DELAY_MS: '10',
    NOTIFICATIONS_HTTP_TIMEOUT_MS: '2000',
    NOOJEE_BASE_URL: noojee.url,
    NOOJEE_API_KEY: SECRETS.NOOJEE_API_KEY,
    NOOJEE_EXTENSIONS: '400,410',
    NOOJEE_SCHEDULE: '*/3 * * * * *',
    NOOJEE_RUN_SECONDS: '2',
    NOOJEE_POLL_TIMEOUT_SECONDS: '1',
    NOOJEE_RETRY_DELAY_MS: '50',
    NOOJEE_HTTP_TIMEOUT_MARGIN_MS: '1000',
    LOCAL_FUNCTION_KEY: SECRETS.LOCAL_FUNCTION_KEY,
  };
}

/** Runs the built CLI (`node dist/cli/index.js ...`) in a directory without settings files; captures both streams. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const bin = join(__dirname, '..', '..', 'dist', 'cli', 'index.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: cliDir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...settings(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      captured.push({ source: `cli ${args.join(' ')} (stdout)`, text: out }, { source: `cli ${args.join(' ')} (stderr)`, text: err });
      resolve({ code, out, err });
    });
  });
}

/** Forwards token requests to the Engage sandbox and records the session tokens it hands out. */
async function startTokenProxy(target: string): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      fetch(target, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' },
        body: Buffer.concat(chunks),
      })
        .then(async (upstream) => {
          const text = await upstream.text();
          try {
            const token = (JSON.parse(text) as { access_token?: unknown }).access_token;
            if (typeof token === 'string') engageTokens.push(token);
          } catch {
            // not JSON: an error answer
          }
          res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
          res.end(text);
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function envelope(id: string): string {
  return JSON.stringify({
    Id: id,
    Attempt: 1,
    Properties: { StaticParamA: 'DateTime' },
    Notifications: [
      {
        Action: 'DESK',
        DynamicParamA: encodeBase64Json([
          { Date: '2026-11-23T00:00:00', BookingID: 7, ResourceItemID: 101, Action: 1, UntilFurtherNotice: false },
        ]),
      },
    ],
  });
}

async function postWebhook(body: string, headers: Record<string, string>, query = ''): Promise<number> {
  const res = await fetch(`${host.url}/api/engage/webhook${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  captured.push({ source: `webhook response ${res.status}`, text: await res.text() });
  return res.status;
}

beforeAll(async () => {
  if (!existsSync(join(__dirname, '..', '..', 'dist', 'cli', 'index.js')))
    throw new Error('dist/cli/index.js is missing: run `npm run build` first');
  // Anything the code under test writes to this process's streams or console is captured too.
  for (const stream of [process.stdout, process.stderr] as const) {
    const original = stream.write.bind(stream);
    stream.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
      captured.push({ source: 'process stream', text: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8') });
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      if (callback) process.nextTick(callback);
      return true;
    };
    restoreSpies.push(() => (stream.write = original));
  }
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const spy = jest
      .spyOn(console, level)
      .mockImplementation((...args: unknown[]) => void captured.push({ source: `console.${level}`, text: args.map(String).join(' ') }));
    restoreSpies.push(() => spy.mockRestore());
  }

  cliDir = mkdtempSync(join(tmpdir(), 'secrets-cli-'));
  azurite = await startAzurite();
  v2 = await startNotificationsSandbox({
    clients: [{ clientId: V2_CLIENT_ID, clientSecret: SECRETS.NOTIFICATIONS_CLIENT_SECRET, scopes: [CONSUMER_SCOPE, ADMINISTRATOR_SCOPE] }],
    // Tokens renew every ~2 s (the client renews 60 s before expiry), so a rotated secret bites fast.
    tokenLifetimeSeconds: 62,
    log: capture('notifications sandbox'),
  });
  const issue = v2.model.issueToken.bind(v2.model);
  v2.model.issueToken = (clientId: string, scopes: string[]) => {
    const t = issue(clientId, scopes);
    issuedTokens.push(t.token);
    return t;
  };
  noojee = await startNoojeeSandbox({ apiKey: SECRETS.NOOJEE_API_KEY, log: capture('noojee sandbox') });
  engage = await startEngageSandbox({
    clientId: ENGAGE_CLIENT_ID,
    password: SECRETS.ENGAGE_PASSWORD,
    subscriptionKey: SECRETS.ENGAGE_SUBSCRIPTION_KEY,
    timeScale: 0.001,
    log: capture('engage sandbox'),
  });
  engageTokenProxy = await startTokenProxy(engage.tokenUrl);
  engageTokenUrl = `http://127.0.0.1:${(engageTokenProxy.address() as AddressInfo).port}/tokenproviderapi/token`;
  host = await startHost({
    useLocalSettings: false,
    settings: { ...sampleTriggerSettings(), ...settings() },
    functionKey: SECRETS.LOCAL_FUNCTION_KEY,
    hostJson: { extensions: { queues: { maxPollingInterval: '00:00:00.200', visibilityTimeout: '00:00:00', maxDequeueCount: 2 } } },
    log: capture('host'),
  });
}, 60_000);

afterAll(async () => {
  await host?.stop();
  await Promise.all([v2?.stop(), noojee?.stop(), engage?.stop(), azurite?.stop()]);
  if (engageTokenProxy) await new Promise<void>((resolve) => engageTokenProxy.close(() => resolve()));
  if (cliDir) rmSync(cliDir, { recursive: true, force: true });
  for (const restore of restoreSpies.reverse()) restore();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
  resetConfig();
});

test('traffic through every path, with failures, never puts a configured secret in a log line or CLI output', async () => {
  const conn = azurite.connectionString;
  const key = { 'x-functions-key': SECRETS.LOCAL_FUNCTION_KEY };

  // --- Engage listener API (CLI) and the sandbox pusher delivering to the webhook.
  const notificationUrl = `${host.url}/api/engage/webhook?code=${SECRETS.LOCAL_FUNCTION_KEY}`;
  expect((await cli(['listeners', 'register', '--url', notificationUrl, '--event-types', 'DESK,DESKPROGRESSION'])).code).toBe(0);
  expect((await cli(['listeners', 'list', '--url', notificationUrl])).code).toBe(0);
  await cli(['listeners', 'list', '--url', notificationUrl, '--json']);
  expect((await cli(['listeners', 'list', '--url', notificationUrl], { ENGAGE_PASSWORD: WRONG_ENGAGE_PASSWORD })).code).not.toBe(0);
  engage.injectFault({ target: 'listener', status: 500, count: 1 });
  expect((await cli(['listeners', 'list', '--url', notificationUrl])).code).not.toBe(0);
  await engage.push([{ action: 'DESK' }, { action: 'DESKPROGRESSION' }]);
  // One envelope carries both notifications; the webhook must accept it (200).
  await waitFor(() => engage.deliveries().some((d) => d.status === 200), 'the pusher to deliver to the webhook', 45_000);

  // --- Engage webhook: accepted, bad signature, bad / missing function key (header and ?code=), bad bodies.
  const good = envelope('e2e-secrets-1');
  expect(await postWebhook(good, { ...key, 'ms-signature': signBody(SECRETS.ENGAGE_WEBHOOK_SECRET, good) })).toBe(200);
  expect(await postWebhook(good, { ...key, 'ms-signature': signBody('not-the-secret', good) })).toBe(401);
  expect(await postWebhook(good, { ...key })).toBe(401);
  expect(await postWebhook(good, { 'ms-signature': signBody(SECRETS.ENGAGE_WEBHOOK_SECRET, good) })).toBe(401);
  expect(
    await postWebhook(good, { 'ms-signature': signBody(SECRETS.ENGAGE_WEBHOOK_SECRET, good) }, `?code=${SECRETS.LOCAL_FUNCTION_KEY}`),
  ).toBe(200);
  expect(await postWebhook(good, { 'ms-signature': signBody(SECRETS.ENGAGE_WEBHOOK_SECRET, good) }, '?code=wrong-key')).toBe(401);
  const notJson = '{"Id":';
  expect(await postWebhook(notJson, { ...key, 'ms-signature': signBody(SECRETS.ENGAGE_WEBHOOK_SECRET, notJson) })).toBe(400);
  const invalid = JSON.stringify({ Id: '', Notifications: [] });
  expect(await postWebhook(invalid, { ...key, 'ms-signature': signBody(SECRETS.ENGAGE_WEBHOOK_SECRET, invalid) })).toBe(400);
  // engage-desk is consumed by the occupancy consumer: its runs show the messages landed.
  await waitFor(
    () => hostLogHas(/Executed 'Functions\.occupancyDesk' \(Succeeded/),
    'the occupancy consumer to process the accepted envelope',
    15_000,
  );

  // --- v2 drain (host timer, every second): events land; then upstream 5xx; then bad credentials.
  await waitFor(() => v2.subscriptionIds().length === 1, 'the drain to create its subscription', 15_000);
  v2.publish({ count: 5 });
  await waitFor(async () => (await queueDepth(conn, 'notifications-v2')) >= 5, 'drained notifications in notifications-v2', 15_000);
  v2.injectFault({ endpoint: 'notifications', kind: 'status', status: 503, times: 4 });
  v2.publish({ count: 1 });
  await waitFor(() => hostLogHas(/notifications drain: .*(503|NOT000503|unavailable)/i), 'a drain run to log the upstream 5xx', 15_000);
  v2.clearFaults();
  v2.addClient({ clientId: V2_CLIENT_ID, clientSecret: ROTATED_V2_SECRET, scopes: [CONSUMER_SCOPE, ADMINISTRATOR_SCOPE] });
  const failuresBefore = hostLines().filter((l) => /notifications drain: .*(invalid_client|401|credential|token)/i.test(l)).length;
  await waitFor(
    () => hostLines().filter((l) => /notifications drain: .*(invalid_client|401|credential|token)/i.test(l)).length > failuresBefore,
    'a drain run to log the rejected client credentials',
    15_000,
  );
  v2.addClient({
    clientId: V2_CLIENT_ID,
    clientSecret: SECRETS.NOTIFICATIONS_CLIENT_SECRET,
    scopes: [CONSUMER_SCOPE, ADMINISTRATOR_SCOPE],
  });

  // --- Noojee (host timer, every 3 s): the seed's sample call lands; a command runs; then upstream 5xx.
  noojee.playSeedSample(1);
  await waitFor(async () => (await queueDepth(conn, 'noojee-call-events')) >= 2, 'the sample call events in noojee-call-events', 15_000);
  const commands = QueueServiceClient.fromConnectionString(conn).getQueueClient('noojee-call-commands');
  await commands.createIfNotExists();
  await commands.sendMessage(encodeMessage({ action: 'hangup', extenOrUniqueId: '1412749510.488' }));
  await waitFor(() => noojee.commands.length >= 1, 'the hangup command to reach the Noojee sandbox', 15_000);
  noojee.setFaults({ fail: 3, status: 503 });
  await commands.sendMessage(encodeMessage({ action: 'dial', number: '0412345678', extenOrUniqueId: 'SIP/100' }));
  await waitFor(() => hostLogHas(/Functions\.(callEvents|callCommands).*\b503\b/), 'a Noojee call to log the upstream 5xx', 15_000);
  noojee.clearFaults();

  // --- CLI commands that exist, normal and with bad credentials.
  const status = await cli(['status']);
  expect(status.code).toBe(0);
  for (const args of [
    ['status', '--json'],
    ['poison', 'list'],
    ['poison', 'show', '--queue', 'noojee-call-commands'],
    ['subscriptions', 'status'],
    ['subscriptions', 'status', '--json'],
    ['subscriptions', 'create', '--json'],
  ]) {
    await cli(args);
  }
  const badCredentials = await cli(['subscriptions', 'status'], { NOTIFICATIONS_CLIENT_SECRET: WRONG_CLI_SECRET });
  expect(badCredentials.code).not.toBe(0); // fails, with a message that names no secret

  // --- Storage down: the webhook answers 503, timers fail, the CLI fails.
  await azurite.stop();
  expect(
    await postWebhook(envelope('e2e-secrets-2'), {
      ...key,
      'ms-signature': signBody(SECRETS.ENGAGE_WEBHOOK_SECRET, envelope('e2e-secrets-2')),
    }),
  ).toBe(503);
  const storageFailure = await cli(['status']);
  expect(storageFailure.code).not.toBe(0);
  await waitFor(
    () => hostLogHas(/Executed 'Functions\.(notificationsDrain|callEvents)' \(Failed/),
    'a timer run to fail while storage is down',
    15_000,
  );
  await host.stop();

  // The traffic really happened (the check below is not vacuous).
  expect(hostLogHas(/Executed 'Functions\.engageWebhook' \(Succeeded/)).toBe(true);
  expect(captured.some((c) => c.source.startsWith('notifications sandbox'))).toBe(true);
  expect(captured.some((c) => c.source.startsWith('cli') && c.text.length > 0)).toBe(true);
  expect(issuedTokens.length).toBeGreaterThan(1);
  expect(engageTokens.length).toBeGreaterThan(1);
  expect(captured.some((c) => c.source === 'engage sandbox')).toBe(true);

  // --- The check: no secret value anywhere.
  const secretValues: [string, string][] = [
    ...Object.entries(SECRETS),
    ['rotated v2 client secret', ROTATED_V2_SECRET],
    ['wrong CLI client secret', WRONG_CLI_SECRET],
    ['wrong CLI Engage password', WRONG_ENGAGE_PASSWORD],
    ...engageTokens.map((t, i): [string, string] => [`Engage session token #${i + 1}`, t]),
    ['storage account key (connection string)', AZURITE_ACCOUNT_KEY],
    ...issuedTokens.map((t, i): [string, string] => [`v2 access token #${i + 1}`, t]),
  ];
  const leaks: string[] = [];
  for (const { source, text } of captured) {
    for (const [name, value] of secretValues) {
      if (text.includes(value)) {
        const line = text.split('\n').find((l) => l.includes(value)) ?? '';
        leaks.push(`${name} in ${source}: ${line.split(value).join('<SECRET>').slice(0, 300)}`);
      }
    }
  }
  expect(leaks).toEqual([]);
  // The local host redacts configured secrets as '***'; Azure's host does not. A redacted line means
  // some code tried to log a secret, which would leak in Azure.
  expect(hostLines().filter((l) => l.includes('***'))).toEqual([]);
  expect(captured.length).toBeGreaterThan(50);
}, 120_000);
