/** Session tokens, the listener API client and the `listeners` CLI against the Engage sandbox. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerListenerCommands } from '../../../cli/listeners';
import { startEngageSandbox, type EngageSandbox } from '../../../local/sandbox/engage/engageSandbox';
import { EngageTokenProvider } from '../../../shared/engage/auth';
import { EngageListenerClient } from '../../../shared/engage/listeners';
import { UpstreamError } from '../../../shared/errors';
import { gapMs, startScriptedServer, type ScriptedAnswer, type ScriptedServer } from '../../unit/http/scriptedServer';

let sandbox: EngageSandbox;
let dir: string;
beforeAll(async () => {
  sandbox = await startEngageSandbox();
  dir = mkdtempSync(join(tmpdir(), 'engage-cli-'));
});
afterAll(async () => {
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function tokens(overrides: Partial<ConstructorParameters<typeof EngageTokenProvider>[0]> = {}) {
  return new EngageTokenProvider({ tokenUrl: sandbox.tokenUrl, clientId: 'sandbox-client', password: 'sandbox-password', ...overrides });
}
function listenerClient(t = tokens()) {
  return new EngageListenerClient({
    apiBaseUrl: `${sandbox.url}/${sandbox.apiSuffix}`,
    subscriptionKey: 'sandbox-subscription-key',
    tokens: t,
  });
}

describe('session tokens', () => {
  test('cached; concurrent callers share one fetch; refreshed before expiry', async () => {
    let now = Date.now();
    const t = tokens({ now: () => now, refreshMarginMs: 60_000 });
    const values = await Promise.all(Array.from({ length: 10 }, () => t.getToken()));
    expect(new Set(values).size).toBe(1);
    expect(t.fetched).toBe(1);
    now += 43199_000 - 120_000; // still outside the margin
    expect(await t.getToken()).toBe(values[0]);
    now += 90_000; // inside the margin → refresh
    expect(await t.getToken()).not.toBe(values[0]);
    expect(t.fetched).toBe(2);
  });
  test('bad credentials → UpstreamError 401 without the password in it', async () => {
    const err = await tokens({ password: 'wrong-password-xyz' })
      .getToken()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).status).toBe(401);
    expect(JSON.stringify({ m: (err as Error).message, b: (err as UpstreamError).body })).not.toContain('wrong-password-xyz');
  });
  test('a 401 from the API refreshes the token once (shared by concurrent calls) and retries', async () => {
    const t = tokens();
    const api = listenerClient(t);
    await api.list('https://example.test/hook');
    expect(t.fetched).toBe(1);
    sandbox.expireTokens();
    const results = await Promise.all(Array.from({ length: 5 }, () => api.list('https://example.test/hook')));
    expect(results.every((r) => Array.isArray(r))).toBe(true);
    expect(t.fetched).toBe(2);
  });
  test('upstream 5xx surfaces as a typed error, not a crash', async () => {
    sandbox.injectFault({ target: 'listener', status: 503, count: 1 });
    const err = await listenerClient()
      .list('https://example.test/hook')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).status).toBe(503);
  });
});

describe('listener API client', () => {
  const url = 'https://bridge.example.test/api/engage/webhook';
  test('register, list, unregister', async () => {
    const api = listenerClient();
    const reg = await api.register({ secretkey: 'k', eventTypes: ['DESK', 5], notificationUrl: url, queueProvider: 3 });
    expect(reg.listeners.map((l) => l.eventType).sort()).toEqual([2, 5]);
    const listed = await api.list(url);
    expect(listed).toHaveLength(2);
    expect(JSON.stringify(listed)).not.toContain('"k"');
    await api.unregister({ listenerId: listed[0].listenerId!, eventType: listed[0].eventType!, notificationUrl: url, queueProvider: 3 });
    expect(await api.list(url)).toHaveLength(1);
    const missing = await api.unregister({ listenerId: 9999, eventType: 2, notificationUrl: url }).catch((e: unknown) => e);
    expect((missing as UpstreamError).status).toBe(404);
  });
  test('validation: provider 4 needs resourceIds, others refuse them, https only (http for loopback)', async () => {
    const api = listenerClient();
    await expect(api.register({ secretkey: 'k', eventTypes: [2], notificationUrl: url, queueProvider: 4 })).rejects.toThrow(/resourceIds/);
    await expect(
      api.register({ secretkey: 'k', eventTypes: [2], notificationUrl: url, queueProvider: 3, resourceIds: [1] }),
    ).rejects.toThrow(/only allowed with queue provider 4/);
    await expect(api.register({ secretkey: 'k', eventTypes: [2], notificationUrl: 'http://bridge.example.test/x' })).rejects.toThrow(
      /https/,
    );
    await expect(api.register({ secretkey: 'k', eventTypes: [9], notificationUrl: url })).rejects.toThrow(/unknown event type/);
    const ok = await api.register({
      secretkey: 'k',
      eventTypes: ['DESKPROGRESSION'],
      notificationUrl: 'http://127.0.0.1:1/x',
      queueProvider: 'AZUREQUEUEFILTERED',
      resourceIds: [101],
    });
    expect(ok.listeners[0]).toMatchObject({ eventType: 6, queueProvider: 4, resourceIds: [101] });
  });
});

describe('CLI listeners', () => {
  const env = () => ({
    ENGAGE_BASE_URL: sandbox.url,
    ENGAGE_API_SUFFIX: sandbox.apiSuffix,
    ENGAGE_CLIENT_ID: 'sandbox-client',
    ENGAGE_PASSWORD: 'sandbox-password',
    ENGAGE_SUBSCRIPTION_KEY: 'sandbox-subscription-key',
    ENGAGE_WEBHOOK_SECRET: 'cli-secret-value',
  });

  async function cli(args: string[], extraEnv: Record<string, string | undefined> = env()): Promise<{ out: string; error?: Error }> {
    const saved = { ...process.env };
    Object.assign(process.env, extraEnv);
    for (const [k, v] of Object.entries(extraEnv)) if (v === undefined) delete process.env[k];
    let out = '';
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    const program = new Command('engage-bridge').exitOverride();
    registerListenerCommands(program);
    try {
      await program.parseAsync(['node', 'engage-bridge', 'listeners', ...args]);
      return { out };
    } catch (err) {
      return { out, error: err as Error };
    } finally {
      spy.mockRestore();
      process.env = saved;
    }
  }

  const hook = 'https://bridge.example.test/api/engage/webhook?code=FUNCTIONKEY123';

  test('register and list print listeners, never secrets or the function key', async () => {
    const reg = await cli(['register', '--url', hook, '--event-types', 'DESK,MEETINGEXTERNAL', '--provider', '3']);
    expect(reg.error).toBeUndefined();
    expect(reg.out).toMatch(/DESK\(2\)/);
    const list = await cli(['list', '--url', hook]);
    expect(list.out).toMatch(/2 listener\(s\)/);
    for (const text of [reg.out, list.out]) {
      expect(text).not.toContain('FUNCTIONKEY123');
      expect(text).not.toContain('cli-secret-value');
      expect(text).not.toContain('sandbox-password');
    }
  });

  test('reconcile registers what is missing and removes what is not desired (dry run changes nothing)', async () => {
    const url = 'https://reconcile.example.test/hook';
    await cli(['register', '--url', url, '--event-types', 'DESK,VISITOR', '--provider', '3']);
    const file = join(dir, 'desired.json');
    writeFileSync(
      file,
      JSON.stringify({ listeners: [{ notificationUrl: url, eventTypes: ['DESK', 'MEETINGEXTERNAL'], queueProvider: 3 }] }),
    );
    const dry = await cli(['reconcile', '--file', file, '--dry-run']);
    expect(dry.error).toBeUndefined();
    expect(dry.out).toMatch(/\+ register\s+MEETINGEXTERNAL\(3\)/);
    expect(dry.out).toMatch(/- unregister\s+#\d+\s+VISITOR\(8\)/);
    expect(
      sandbox
        .listeners()
        .filter((l) => l.notificationUrl === url)
        .map((l) => l.eventType)
        .sort(),
    ).toEqual([2, 8]);
    const real = await cli(['reconcile', '--file', file]);
    expect(real.error).toBeUndefined();
    expect(real.out).toMatch(/1 registered, 1 removed, 1 unchanged/);
    expect(
      sandbox
        .listeners()
        .filter((l) => l.notificationUrl === url)
        .map((l) => l.eventType)
        .sort(),
    ).toEqual([2, 3]);
    const again = await cli(['reconcile', '--file', file]);
    expect(again.out).toMatch(/0 registered, 0 removed, 2 unchanged/);
  });

  test('failures are clear errors (missing settings, bad file, upstream refusal)', async () => {
    const missing = await cli(['list', '--url', hook], { ENGAGE_BASE_URL: undefined, ENGAGE_PASSWORD: undefined });
    expect(missing.error?.message).toMatch(/ENGAGE_BASE_URL.*[\s\S]*ENGAGE_PASSWORD/);
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify([{ notificationUrl: 'ftp://x', eventTypes: [] }]));
    expect((await cli(['reconcile', '--file', file])).error?.message).toMatch(/invalid desired-listeners file/);
    const badPassword = await cli(['list', '--url', hook], { ...env(), ENGAGE_PASSWORD: 'nope-not-it' });
    expect(badPassword.error?.message).toMatch(/401/);
    expect(badPassword.error?.message).not.toContain('nope-not-it');
  });
});

describe('Retry-After (a small local server: the sandbox does not send it)', () => {
  let upstream: ScriptedServer;
  const answers: ScriptedAnswer[] = [];
  beforeAll(async () => {
    upstream = await startScriptedServer((req) => {
      if (req.url.startsWith('/token'))
        return { status: 200, body: JSON.stringify({ access_token: 'session-token-123', token_type: 'bearer', expires_in: 43199 }) };
      return answers.shift() ?? { status: 200, body: '[]' };
    });
  });
  afterAll(() => upstream.stop());
  beforeEach(() => {
    upstream.requests.length = 0;
    answers.length = 0;
  });
  const calls = () => upstream.requests.filter((r) => !r.url.startsWith('/token'));
  function api() {
    const t = new EngageTokenProvider({ tokenUrl: `${upstream.url}/token`, clientId: 'c', password: 'p-secret' });
    return new EngageListenerClient({ apiBaseUrl: upstream.url, subscriptionKey: 'subscription-key-value', tokens: t });
  }

  test('a 429 with Retry-After: 2 is tried again no sooner than 2 s later', async () => {
    answers.push({ status: 429, headers: { 'retry-after': '2' }, body: '{"message":"Rate limit is exceeded"}' });
    expect(await api().list('https://example.test/hook')).toEqual([]);
    expect(calls()).toHaveLength(2);
    expect(gapMs(calls(), 0, 1)).toBeGreaterThanOrEqual(1950);
  });

  test('a 503 with an HTTP-date Retry-After waits until that date (a register, too, since Engage asked)', async () => {
    // An HTTP-date has whole seconds: 4 s ahead leaves a wait of more than 3 s, less the time to answer.
    answers.push({ status: 503, headers: { 'retry-after': new Date(Date.now() + 4000).toUTCString() } });
    await api().register({ secretkey: 'k', eventTypes: [2], notificationUrl: 'https://bridge.example.test/hook', queueProvider: 3 });
    expect(calls().map((c) => c.method)).toEqual(['POST', 'POST']);
    expect(gapMs(calls(), 0, 1)).toBeGreaterThanOrEqual(2500);
  });

  test('a Retry-After beyond what the CLI waits (60 s) is reported at once; a 5xx without one is not retried', async () => {
    answers.push({ status: 429, headers: { 'retry-after': '120' } });
    const err = await api()
      .list('https://example.test/hook')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ status: 429, retryAfterMs: 120_000 });
    expect(calls()).toHaveLength(1);
    answers.push({ status: 503 });
    expect(
      await api()
        .list('https://example.test/hook')
        .catch((e: unknown) => e),
    ).toMatchObject({ status: 503 });
    expect(calls()).toHaveLength(2);
  });
});
