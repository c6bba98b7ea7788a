/** The Notification API client against the sandbox (real HTTP): tokens, scopes, ownership, paging, faults. */
import { NotificationApiClient, type NotificationApiOptions } from '../../../shared/notificationApiV2/client';
import { NotificationApiError } from '../../../shared/notificationApiV2/errors';
import { ADMINISTRATOR_SCOPE, CONSUMER_SCOPE, DEFAULT_PATHS } from '../../../shared/notificationApiV2/defaults';
import {
  SANDBOX_USER,
  sandboxClientOptions,
  startNotificationsSandbox,
  type NotificationsSandbox,
} from '../../../local/sandbox/notificationApiV2/notificationsSandbox';
import { waitFor } from '../../helpers/queues';
import { withRetry } from '../../../shared/notificationApiV2/retry';
import { gapMs, startScriptedServer, type ScriptedAnswer, type ScriptedServer } from '../../unit/http/scriptedServer';

let sandbox: NotificationsSandbox;

function options(overrides: Partial<NotificationApiOptions> = {}): NotificationApiOptions {
  return {
    baseUrl: sandbox.url,
    tokenUrl: sandbox.tokenUrl,
    grantType: 'client_credentials',
    consumer: { clientId: 'reader', clientSecret: 'reader-secret', scope: CONSUMER_SCOPE },
    administrator: { clientId: 'admin', clientSecret: 'admin-secret', scope: ADMINISTRATOR_SCOPE },
    paths: {
      subscriptions: DEFAULT_PATHS.subscriptions,
      subscription: DEFAULT_PATHS.subscription,
      notifications: DEFAULT_PATHS.notifications,
    },
    pageSizeParam: 'size',
    timeoutMs: 2000,
    ...overrides,
  };
}

async function rejection(p: Promise<unknown>): Promise<NotificationApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(NotificationApiError);
    return err as NotificationApiError;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  sandbox = await startNotificationsSandbox({
    clients: [
      { clientId: 'reader', clientSecret: 'reader-secret', scopes: [CONSUMER_SCOPE] },
      { clientId: 'admin', clientSecret: 'admin-secret', scopes: [ADMINISTRATOR_SCOPE] },
      { clientId: 'other', clientSecret: 'other-secret', scopes: [CONSUMER_SCOPE, ADMINISTRATOR_SCOPE] },
    ],
    maxPageSize: 50,
  });
});
afterAll(() => sandbox.stop());
afterEach(() => sandbox.clearFaults());

describe('NotificationApiClient against the sandbox', () => {
  it('creates, reads (destructively, page by page), inspects and deletes a subscription', async () => {
    const client = new NotificationApiClient(options());
    const created = await client.createSubscription({ event_type_ids: ['101', '301'], client_id: 'reader' });
    expect(created.subscription).toMatchObject({ client_id: 'reader', event_type_ids: ['101', '301'], subscribed_by: 'admin' });
    expect(sandbox.publish({ count: 120 })).toBe(120);

    const status = await client.getSubscription(created.id);
    expect(status.subscription_status).toMatchObject({ last_request_date: null, number_of_remaining_notifications: 120 });

    const seen: unknown[] = [];
    const sizes: number[] = [];
    for (;;) {
      const page = await client.readNotifications(created.id, 100); // capped at 50 by the server
      if (page.results.length === 0) break;
      sizes.push(page.results.length);
      seen.push(...page.results);
    }
    expect(sizes).toEqual([50, 50, 20]);
    expect(new Set(seen.map((e) => (e as { user: { id: string } }).user.id)).size).toBe(120);
    expect(seen[0]).toMatchObject({
      version: 'V2',
      event_type_id: expect.stringMatching(/^(101|301)$/),
      event_type_details: { category: expect.any(String) },
    });
    const after = await client.getSubscription(created.id);
    expect(after.subscription_status?.number_of_remaining_notifications).toBe(0);
    expect(after.subscription_status?.last_request_date).toEqual(expect.any(String));

    await client.deleteSubscription(created.id);
    const gone = await rejection(client.getSubscription(created.id));
    expect(gone.status).toBe(404);
    expect(gone.code).toBe('NOT000006');
  });

  it('answers 403 when the token lacks the scope, and 404 NOT000006 for another client’s subscription', async () => {
    const swapped = new NotificationApiClient(
      options({ administrator: { clientId: 'reader', clientSecret: 'reader-secret', scope: CONSUMER_SCOPE } }),
    );
    const forbidden = await rejection(swapped.createSubscription({ event_type_ids: ['101'], client_id: 'reader' }));
    expect(forbidden.status).toBe(403);
    expect(forbidden.transient).toBe(false);

    const id = sandbox.createSubscription('other', ['101']);
    const client = new NotificationApiClient(options());
    const notMine = await rejection(client.readNotifications(id, 10));
    expect(notMine.status).toBe(404);
    expect(notMine.code).toBe('NOT000006');
    expect(notMine.message).toContain('for client_id [reader] does not exist');
  });

  it('refuses a scope the client does not have at the token endpoint, with a typed error and no secret in the message', async () => {
    const client = new NotificationApiClient(
      options({ consumer: { clientId: 'reader', clientSecret: 'reader-secret', scope: ADMINISTRATOR_SCOPE } }),
    );
    const err = await rejection(client.getSubscription('abc'));
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_scope');
    const bad = await rejection(
      new NotificationApiClient(
        options({ consumer: { clientId: 'reader', clientSecret: 'wrong-secret-value', scope: CONSUMER_SCOPE } }),
      ).getSubscription('abc'),
    );
    expect(bad.status).toBe(401);
    expect(bad.code).toBe('invalid_client');
    expect(bad.message).not.toContain('wrong-secret-value');
  });

  it('supports the password grant', async () => {
    const client = new NotificationApiClient(
      options({ grantType: 'password', username: SANDBOX_USER.username, password: SANDBOX_USER.password }),
    );
    const id = (await client.createSubscription({ event_type_ids: ['102'], client_id: 'reader' })).id;
    expect((await client.getSubscription(id)).id).toBe(id);
    const wrong = new NotificationApiClient(options({ grantType: 'password', username: SANDBOX_USER.username, password: 'nope-nope' }));
    const err = await rejection(wrong.getSubscription(id));
    expect(err.code).toBe('invalid_grant');
  });

  it('caches a token per client and scope, and renews it once when the API rejects it as expired', async () => {
    const client = new NotificationApiClient(options());
    const id = sandbox.createSubscription('reader', ['101']);
    const before = sandbox.model.tokensIssued;
    await client.getSubscription(id);
    await client.getSubscription(id);
    await client.readNotifications(id, 5);
    expect(sandbox.model.tokensIssued).toBe(before + 1);
    sandbox.advanceClock(3600_000); // the sandbox now considers the token expired (401) → the client renews once
    expect((await client.getSubscription(id)).id).toBe(id);
    expect(sandbox.model.tokensIssued).toBe(before + 2);
  });

  it('turns 5xx, timeouts and network failures into transient errors', async () => {
    const client = new NotificationApiClient(options({ timeoutMs: 300 }));
    const id = sandbox.createSubscription('reader', ['101']);
    sandbox.injectFault({ endpoint: 'notifications', kind: 'status', status: 503 });
    const e503 = await rejection(client.readNotifications(id, 10));
    expect([e503.status, e503.transient]).toEqual([503, true]);
    sandbox.injectFault({ endpoint: 'notifications', kind: 'timeout' });
    const timeout = await rejection(client.readNotifications(id, 10));
    expect([timeout.code, timeout.transient]).toEqual(['TIMEOUT', true]);
    sandbox.injectFault({ endpoint: 'get', kind: 'slow', delayMs: 100 });
    expect((await client.getSubscription(id)).id).toBe(id);
    const down = new NotificationApiClient(options({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 1000 }));
    // the token endpoint is still the sandbox; the API host refuses connections
    const network = await rejection(down.getSubscription(id));
    expect([network.code, network.transient]).toEqual(['NETWORK', true]);
  });

  it('drops notifications after the retention period', async () => {
    const client = new NotificationApiClient(options());
    const id = sandbox.createSubscription('reader', ['101']);
    sandbox.publish({ subscriptionId: id, count: 3 });
    sandbox.advanceClock(6 * 3600_000 + 1000);
    sandbox.publish({ subscriptionId: id, count: 2 });
    expect(sandbox.pending(id)).toBe(2);
    expect((await client.readNotifications(id, 10)).results).toHaveLength(2);
  });

  it('exposes the controls over HTTP under /_sandbox/', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${sandbox.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = await post('/_sandbox/subscriptions', { client_id: 'reader', event_type_ids: ['301'] });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as { id: string }).id;
    expect(await (await post('/_sandbox/publish', { subscriptionId: id, count: 4 })).json()).toEqual({ published: 4 });
    expect((await post('/_sandbox/faults', { endpoint: 'notifications', kind: 'status', status: 500, times: 2 })).status).toBe(204);
    expect((await post('/_sandbox/faults', { kind: 'explode' })).status).toBe(400);
    expect((await post('/_sandbox/clock', { advanceMs: 1000 })).status).toBe(200);
    const state = (await (await fetch(`${sandbox.url}/_sandbox/state`)).json()) as {
      subscriptions: { id: string; subscription_status: { number_of_remaining_notifications: number } }[];
      faults: unknown[];
    };
    expect(state.subscriptions.find((s) => s.id === id)?.subscription_status.number_of_remaining_notifications).toBe(4);
    expect(state.faults).toHaveLength(1);
    expect((await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${sandbox.url}/_sandbox/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(sandbox.subscriptionIds()).not.toContain(id);
  });

  it('validates create requests like the API (non-empty unique event_type_ids, client_id pattern)', async () => {
    const client = new NotificationApiClient(options());
    // The client refuses before sending…
    await expect(client.createSubscription({ event_type_ids: [], client_id: 'reader' })).rejects.toThrow(/must not be empty/);
    // …and the sandbox refuses when sent anyway.
    const token = (
      (await (
        await fetch(sandbox.tokenUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials&client_id=admin&client_secret=admin-secret',
        })
      ).json()) as { access_token: string }
    ).access_token;
    const res = await fetch(`${sandbox.url}${DEFAULT_PATHS.subscriptions}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event_type_ids: ['1', '1'], client_id: 'bad id' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error_code: 'NOT000002', description: expect.stringMatching(/unique.*client_id must match/) });
  });

  it('generates realistic v2 events periodically for npm start', async () => {
    const live = await startNotificationsSandbox({ generate: { everyMs: 20, count: 2 } });
    try {
      const id = live.createSubscription('engage-bridge', ['101', '301']);
      await waitFor(() => live.pending(id) >= 4, 'generated events', 5000, 20);
      const page = await new NotificationApiClient(sandboxClientOptions(live)).readNotifications(id, 100);
      expect(page.results.length).toBeGreaterThanOrEqual(4);
      for (const e of page.results) {
        expect(e).toMatchObject({
          version: 'V2',
          event_type_id: expect.stringMatching(/^(101|301)$/),
          timestamp: expect.any(String),
          user: { id: expect.any(String) },
          device: expect.any(Object),
          location: { ip: expect.any(String) },
        });
        expect(Number.isNaN(Date.parse((e as { timestamp: string }).timestamp))).toBe(false);
      }
    } finally {
      await live.stop();
    }
  });
});

describe('Retry-After (a small local server: the sandbox does not send it)', () => {
  let upstream: ScriptedServer;
  const answers: ScriptedAnswer[] = [];
  const page = JSON.stringify({ results: [], page: null, subscription_status: { number_of_remaining_notifications: 0 } });
  beforeAll(async () => {
    upstream = await startScriptedServer((req) => {
      if (req.url.startsWith('/token')) return { status: 200, body: JSON.stringify({ access_token: 'tok-123456789', expires_in: 3600 }) };
      return answers.shift() ?? { status: 200, body: page };
    });
  });
  afterAll(() => upstream.stop());
  beforeEach(() => {
    upstream.requests.length = 0;
    answers.length = 0;
  });
  const reads = () => upstream.requests.filter((r) => !r.url.startsWith('/token'));
  function client() {
    return new NotificationApiClient(options({ baseUrl: upstream.url, tokenUrl: `${upstream.url}/token` }));
  }

  it('a 503 with Retry-After: 2 is read again no sooner than 2 s later', async () => {
    answers.push({ status: 503, headers: { 'retry-after': '2' }, body: '{"code":"busy"}' });
    const waits: number[] = [];
    const read = await withRetry(() => client().readNotifications('s1', 10), {
      attempts: 3,
      baseDelayMs: 10,
      onRetry: (_e, _a, ms) => waits.push(ms),
    });
    expect(read.results).toEqual([]);
    expect(waits).toEqual([2000]);
    expect(reads()).toHaveLength(2);
    expect(gapMs(reads(), 0, 1)).toBeGreaterThanOrEqual(1950);
  });

  it('a 429 with an HTTP-date Retry-After waits until that date', async () => {
    answers.push({ status: 429, headers: { 'retry-after': new Date(Date.now() + 3000).toUTCString() } });
    const waits: number[] = [];
    await withRetry(() => client().readNotifications('s1', 10), { attempts: 3, baseDelayMs: 10, onRetry: (_e, _a, ms) => waits.push(ms) });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(1000);
    expect(waits[0]).toBeLessThanOrEqual(3000);
    expect(reads()).toHaveLength(2);
    expect(gapMs(reads(), 0, 1)).toBeGreaterThanOrEqual(waits[0] - 50);
  });

  it('a Retry-After beyond the remaining budget ends the retries at once', async () => {
    answers.push({ status: 503, headers: { 'retry-after': '6' } });
    const err = await rejection(
      withRetry(() => client().readNotifications('s1', 10), { attempts: 5, baseDelayMs: 10, deadline: Date.now() + 3000 }),
    );
    expect(err).toMatchObject({ status: 503, retryAfterMs: 6000, transient: true });
    expect(reads()).toHaveLength(1);
  });
});
