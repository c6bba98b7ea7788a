/** The Engage sandbox pusher: ASP.NET WebHooks retries (scaled), stop on 410, signatures, HTTP controls. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEngageSandbox, type EngageSandbox } from '../../../local/sandbox/engage/engageSandbox';
import { checkSignature } from '../../../shared/engage/signature';
import { decoders } from '../../../shared/engage/decoder';
import { deskProgressionPayload } from '../../../shared/engage/events';

let sandbox: EngageSandbox;
let receiver: Server;
let receiverUrl: string;
let answer = 200;
const received: { body: string; signature: string; attempt: number }[] = [];

beforeAll(async () => {
  sandbox = await startEngageSandbox({ timeScale: 0.001 });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      received.push({ body, signature: String(req.headers['ms-signature']), attempt: (JSON.parse(body) as { Attempt: number }).Attempt });
      res.writeHead(answer);
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await sandbox?.stop();
  receiver.closeAllConnections();
  await new Promise<void>((r) => receiver.close(() => r()));
});

async function control(path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${sandbox.url}/_sandbox/${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  return res.json();
}

async function register(eventTypes: number[], extra: Record<string, unknown> = {}) {
  const token = (await (
    await fetch(sandbox.tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: 'sandbox-client', password: 'sandbox-password' }),
    })
  ).json()) as { access_token: string; expires_in: number };
  expect(token.expires_in).toBe(43199);
  const res = await fetch(`${sandbox.url}/sandbox/api/V1/listener`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'Ocp-Apim-Subscription-Key': 'sandbox-subscription-key',
      Authorization: `Bearer ${token.access_token}`,
    },
    body: JSON.stringify({ secretkey: 'sandbox-secret', eventTypes, notificationUrl: receiverUrl, ...extra }),
  });
  return res.status;
}

test('listener API refuses a missing subscription key or token (401) and invalid bodies (400)', async () => {
  const noKey = await fetch(`${sandbox.url}/sandbox/api/V1/listener?notificationUrl=x`);
  expect(noKey.status).toBe(401);
  const noToken = await fetch(`${sandbox.url}/sandbox/api/V1/listener?notificationUrl=x`, {
    headers: { 'Ocp-Apim-Subscription-Key': 'sandbox-subscription-key' },
  });
  expect(noToken.status).toBe(401);
  expect(await register([2], { queueProvider: 4 })).toBe(400);
  expect(await register([])).toBe(400);
});

test('signed, base64-json payloads; HTTP controls push samples and list listeners and deliveries', async () => {
  expect(await register([6])).toBe(200);
  expect((await control('listeners')) as unknown[]).toEqual([expect.not.objectContaining({ secretkey: expect.anything() })]);
  const { envelopeIds } = (await control('push', { samples: 8 })) as { envelopeIds: string[] };
  expect(envelopeIds).toHaveLength(1); // only DESKPROGRESSION of the 8 sample types is subscribed
  await sandbox.idle();
  const last = received.at(-1)!;
  expect(checkSignature('sandbox-secret', Buffer.from(last.body), last.signature)).toBe('valid');
  const env = JSON.parse(last.body) as { Id: string; Attempt: number; Notifications: { Action: string; DynamicParamA: string }[] };
  expect(env).toMatchObject({ Id: envelopeIds[0], Attempt: 1, Properties: { StaticParamA: 'DateTime' } });
  expect(env.Notifications.map((n) => n.Action)).toEqual(['DESKPROGRESSION']);
  const decoded = decoders['base64-json'](env.Notifications[0].DynamicParamA);
  expect(decoded.ok && deskProgressionPayload.safeParse(decoded.value).success).toBe(true);
  expect(((await control('deliveries')) as { envelopeId: string; status: number }[]).at(-1)).toMatchObject({
    envelopeId: envelopeIds[0],
    status: 200,
  });
});

test('retries at +1 min and +4 min (scaled) on failure, and stops on 410', async () => {
  answer = 500;
  const [failing] = await sandbox.push([{ action: 'DESKPROGRESSION' }]);
  await sandbox.idle();
  expect(
    sandbox
      .deliveries()
      .filter((d) => d.envelopeId === failing)
      .map((d) => [d.attempt, d.status]),
  ).toEqual([
    [1, 500],
    [2, 500],
    [3, 500],
  ]);
  answer = 410;
  const [gone] = await sandbox.push([{ action: 'DESKPROGRESSION' }]);
  await sandbox.idle();
  expect(
    sandbox
      .deliveries()
      .filter((d) => d.envelopeId === gone)
      .map((d) => d.status),
  ).toEqual([410]);
  answer = 200;
});

test('injected faults and token expiry', async () => {
  await control('faults', { target: 'token', status: 503, count: 1 });
  const first = await fetch(sandbox.tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'sandbox-client', password: 'sandbox-password' }),
  });
  expect(first.status).toBe(503);
  const bad = await fetch(sandbox.tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'sandbox-client', password: 'wrong' }),
  });
  expect(bad.status).toBe(401);
  const { access_token } = (await (
    await fetch(sandbox.tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: 'sandbox-client', password: 'sandbox-password' }),
    })
  ).json()) as { access_token: string };
  const headers = { 'Ocp-Apim-Subscription-Key': 'sandbox-subscription-key', Authorization: `Bearer ${access_token}` };
  expect(
    (await fetch(`${sandbox.url}/sandbox/api/V1/listener?notificationUrl=${encodeURIComponent(receiverUrl)}`, { headers })).status,
  ).toBe(200);
  await control('expire-tokens', {});
  expect(
    (await fetch(`${sandbox.url}/sandbox/api/V1/listener?notificationUrl=${encodeURIComponent(receiverUrl)}`, { headers })).status,
  ).toBe(401);
});

test('npm start mode: preregistered listeners receive a periodic stream of sample notifications', async () => {
  const before = received.length;
  const streaming = await startEngageSandbox({
    sampleIntervalMs: 20,
    listeners: [
      { secretkey: 'k', eventTypes: ['DESK', 'MEETINGEXTERNAL', 'DESKPROGRESSION', 'MEETINGPROGRESSION'], notificationUrl: receiverUrl },
    ],
  });
  try {
    const deadline = Date.now() + 10_000;
    while (received.length < before + 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received.length).toBeGreaterThanOrEqual(before + 3);
    const actions = received
      .slice(before)
      .flatMap((r) => (JSON.parse(r.body) as { Notifications: { Action: string }[] }).Notifications.map((n) => n.Action));
    expect(actions.every((a) => ['DESK', 'MEETINGEXTERNAL', 'DESKPROGRESSION', 'MEETINGPROGRESSION'].includes(a))).toBe(true);
  } finally {
    await streaming.stop();
  }
});
