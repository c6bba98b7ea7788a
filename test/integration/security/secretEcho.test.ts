/**
 * Issue 17.1: upstreams that echo the request (credentials included) in their error answers. Every
 * sink must stay clean when run as in Azure (no host redaction): the clients' errors (message, body,
 * serialised), the last-run records saved in the checkpoint container, the function log lines, and
 * the CLI's stdout/stderr (`listeners list`).
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
import { EngageTokenProvider } from '../../../shared/engage/auth';
import { EngageListenerClient } from '../../../shared/engage/listeners';
import { runCallEvents } from '../../../shared/noojee/callEvents';
import { NoojeeClient } from '../../../shared/noojee/client';
import { LAST_RUN_BLOB as NOOJEE_LAST_RUN } from '../../../shared/noojee/cursor';
import { NotificationApiClient } from '../../../shared/notificationApiV2/client';
import { LAST_RUN_BLOB as DRAIN_LAST_RUN } from '../../../shared/notificationApiV2/defaults';
import { runNotificationsDrain } from '../../../shared/notificationApiV2/run';
import { JsonBlobStore } from '../../../shared/state/jsonBlobStore';
import { getStorage } from '../../../shared/storage';

const SECRETS = {
  v2ClientSecret: 'v2-echo-secret-Qw8Zr4Tn',
  engagePassword: 'eng-echo-pass-Lm3Xv7Kd',
  subscriptionKey: 'eng-echo-subkey-Hp5Rt2Wy',
  engageToken: 'eng-echo-token-Ab9Cd8Ef7Gh6',
  v2Token: 'v2-echo-token-Jk5Lm4Np3Qr2',
  noojeeApiKey: 'nj-echo-apikey-Uv1Wx0Yz9',
};

/** What the request carried, as a careless upstream would print it. */
async function dump(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const headers = Object.entries(req.headers)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join('\n');
  return `${req.method} ${req.url}\n${headers}\n\n${Buffer.concat(chunks).toString('utf8')}`;
}

let server: Server;
let base: string;
let azurite: RunningAzurite;
let cliDir: string;
const saved = { ...process.env };

beforeAll(async () => {
  server = createServer((req, res) => {
    void dump(req).then((echo) => {
      const path = (req.url ?? '').split('?')[0];
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (path === '/tokenproviderapi/token')
        return json(200, { access_token: SECRETS.engageToken, token_type: 'bearer', expires_in: 3600 });
      if (path === '/v2/token') return json(401, { error: 'invalid_client', error_description: `rejected request: ${echo}` });
      if (path === '/v2/ok-token') return json(200, { access_token: SECRETS.v2Token, expires_in: 3600 });
      if (path.startsWith('/v2/')) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        return res.end(`internal error while serving\n${echo}`);
      }
      if (path === '/api/V1/listener') {
        res.writeHead(401, { 'content-type': 'text/plain' });
        return res.end(`Access denied due to invalid subscription key. Request was:\n${echo}`);
      }
      if (path.endsWith('/CallManagementAPI/subscribe')) return json(200, { Code: -1, Message: `Invalid request ${echo}` });
      if (path.endsWith('/CallManagementAPI/hangup')) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        return res.end(`bad gateway for ${echo}`);
      }
      json(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  azurite = await startAzurite();
  cliDir = mkdtempSync(join(tmpdir(), 'secret-echo-'));
}, 60_000);

afterAll(async () => {
  process.env = saved;
  resetConfig();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await azurite?.stop();
  rmSync(cliDir, { recursive: true, force: true });
});

function leaks(text: string): string[] {
  return Object.entries(SECRETS)
    .filter(([, v]) => text.includes(v))
    .map(([k]) => k);
}

/** Everything an error exposes: message, body, description, JSON form. */
function exposed(err: unknown): string {
  const e = err as Error & { body?: unknown; description?: string };
  return [e.message, typeof e.body === 'string' ? e.body : JSON.stringify(e.body), e.description ?? '', JSON.stringify(e)].join('\n');
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

const v2Options = (tokenPath: string) => ({
  baseUrl: `${base}/v2`,
  tokenUrl: `${base}${tokenPath}`,
  grantType: 'client_credentials' as const,
  consumer: { clientId: 'reader', clientSecret: SECRETS.v2ClientSecret, scope: 'notification:consent:consumer' },
  administrator: { clientId: 'reader', clientSecret: SECRETS.v2ClientSecret, scope: 'notification:consent:administrator' },
  paths: { subscriptions: '/subscriptions', subscription: '/subscriptions/{id}', notifications: '/subscriptions/{id}/notifications' },
  pageSizeParam: 'size',
  timeoutMs: 5000,
});

describe('client errors are redacted at the source', () => {
  test('Notification API: a token error echoing client_secret, an API error echoing the bearer token', async () => {
    const tokenError = await caught(new NotificationApiClient(v2Options('/v2/token')).getSubscription('s1'));
    expect(exposed(tokenError)).toContain('invalid_client');
    expect(leaks(exposed(tokenError))).toEqual([]);
    const apiError = await caught(new NotificationApiClient(v2Options('/v2/ok-token')).getSubscription('s1'));
    expect(exposed(apiError)).toContain('HTTP 500');
    expect(leaks(exposed(apiError))).toEqual([]);
  });

  test('Engage listener API: an error echoing Ocp-Apim-Subscription-Key and Authorization', async () => {
    const tokens = new EngageTokenProvider({ tokenUrl: `${base}/tokenproviderapi/token`, clientId: 'c', password: SECRETS.engagePassword });
    const client = new EngageListenerClient({ apiBaseUrl: base, subscriptionKey: SECRETS.subscriptionKey, tokens });
    const err = await caught(client.list('https://bridge.example.com/api/engage/webhook'));
    expect(exposed(err)).toContain('answered 401');
    expect(leaks(exposed(err))).toEqual([]);
  });

  test('Noojee: a refusal (Code -1) and an HTTP 502 echoing the apiKey', async () => {
    const client = new NoojeeClient({ baseUrl: base, apiKey: SECRETS.noojeeApiKey, timeoutMarginMs: 2000 });
    const refused = await caught(client.subscribe({ exten: ['400'], lastSequenceNumber: 0, timeOut: 1 }));
    expect(exposed(refused)).toContain('Code -1');
    expect(leaks(exposed(refused))).toEqual([]);
    const unavailable = await caught(client.hangup('SIP/100'));
    expect(exposed(unavailable)).toContain('HTTP 502');
    expect(leaks(exposed(unavailable))).toEqual([]);
  });
});

describe('saved last runs and log lines', () => {
  const lines: string[] = [];
  const context = () =>
    new InvocationContext({ functionName: 'f', logHandler: (level, ...args) => lines.push(`${level}: ${args.join(' ')}`) });

  beforeAll(() => {
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
  });

  test('Noojee callEvents and the v2 drain record and log the upstream error without the secret', async () => {
    await expect(runCallEvents(context())).rejects.toThrow(/Code -1/);
    await runNotificationsDrain(context());
    const checkpoints = new JsonBlobStore(await getStorage(), 'checkpoints');
    const noojeeRun = (await checkpoints.read<{ error?: string }>(NOOJEE_LAST_RUN))?.value;
    const drainRun = (await checkpoints.read<{ error?: string }>(DRAIN_LAST_RUN))?.value;
    expect(noojeeRun?.error).toMatch(/Code -1/);
    expect(drainRun?.error).toMatch(/invalid_client|401/);
    expect(leaks(JSON.stringify([noojeeRun, drainRun]))).toEqual([]);
    expect(lines.some((l) => /Code -1/.test(l))).toBe(true);
    expect(leaks(lines.join('\n'))).toEqual([]);
  });
});

test('CLI `listeners list`: stdout and stderr name neither the subscription key nor the bearer token', async () => {
  const bin = join(__dirname, '..', '..', '..', 'dist', 'cli', 'index.js');
  if (!existsSync(bin)) throw new Error('dist/cli/index.js is missing: run `npm run build` first');
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ENGAGE_BASE_URL: base,
    ENGAGE_CLIENT_ID: 'c',
    ENGAGE_PASSWORD: SECRETS.engagePassword,
    ENGAGE_SUBSCRIPTION_KEY: SECRETS.subscriptionKey,
  };
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'listeners', 'list', '--url', 'https://bridge.example.com/api/engage/webhook'], {
      cwd: cliDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr.on('data', (c: Buffer) => (text += c.toString()));
    child.once('error', reject);
    child.once('exit', (exit) => resolve({ code: exit, out: text }));
  });
  expect(code).toBe(1);
  expect(out).toContain('answered 401');
  expect(leaks(out)).toEqual([]);
});
