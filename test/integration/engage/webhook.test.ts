import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { encodeBase64Json } from '../../../shared/engage/decoder';
import { signBody } from '../../../shared/engage/signature';
import { readMessageBody } from '../../../shared/queue/reader';
import { getStorage } from '../../../shared/storage';
import { drainQueue } from '../../helpers/queues';
import { expectMatchesContract } from '../../helpers/contract';
import { configureWebhook } from './env';
import { callWebhook } from './serveWebhook';

let azurite: RunningAzurite;
const conn = () => azurite.connectionString;

beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

const desk = (resource: number, booking = 7) => [
  { Date: '2026-11-23T00:00:00', BookingID: booking, ResourceItemID: resource, Action: 1, UntilFurtherNotice: false },
];
const meetingExternal = { '2026-11-23T00:00:00': { ChangedItems: [{ Action: 1, BookingID: 99, ResourceItemID: 96 }] } };

function envelope(id: string, notifications: { Action: string; payload?: unknown; raw?: string }[], attempt = 1): string {
  return JSON.stringify({
    Id: id,
    Attempt: attempt,
    Properties: { StaticParamA: 'DateTime' },
    Notifications: notifications.map((n) => ({ Action: n.Action, DynamicParamA: n.raw ?? encodeBase64Json(n.payload) })),
  });
}

async function drainAll(): Promise<Record<string, unknown[]>> {
  const svc = QueueServiceClient.fromConnectionString(conn());
  const out: Record<string, unknown[]> = {};
  for await (const q of svc.listQueues()) {
    const msgs = await drainQueue(conn(), q.name);
    if (msgs.length) out[q.name] = msgs.map((m) => m.body);
  }
  return out;
}

beforeEach(async () => {
  configureWebhook(conn(), { ENGAGE_DECODER: 'base64-json' });
  await drainAll();
});

describe('GET ?echo (WebHooks URL check)', () => {
  test('answers the echo value as text', async () => {
    const r = await callWebhook({ method: 'GET', query: { echo: 'abc-123' } });
    expect(r.status).toBe(200);
    expect(r.text).toBe('abc-123');
  });
  test('400 without an echo value', async () => {
    const r = await callWebhook({ method: 'GET' });
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/echo/);
  });
});

describe('rejections', () => {
  test('415 for a non-JSON content type', async () => {
    const r = await callWebhook({ body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(r.status).toBe(415);
  });
  test('400 for malformed JSON and for an envelope without notifications, with a reason', async () => {
    expect((await callWebhook({ body: '{"Id":' })).status).toBe(400);
    const r = await callWebhook({ body: JSON.stringify({ Id: 'x', Attempt: 1 }) });
    expect(r.status).toBe(400);
    expect((r.json as { error: string }).error).toMatch(/Notifications/);
  });
  test('issue 17.5: a notification that cannot be decoded or validated goes to the dead-letter queue with the reason; the rest are enqueued (200)', async () => {
    const logs: string[] = [];
    const body = JSON.stringify({
      Id: 'e1',
      Attempt: 2,
      Notifications: [
        { Action: 'DESK', DynamicParamA: encodeBase64Json(desk(5)) },
        { Action: 'DESK', DynamicParamA: '!!not base64!!' },
        {
          Action: 'DESKPROGRESSION',
          DynamicParamA: encodeBase64Json([
            { BookingId: 1, ResourceItemId: 2, UpdatedTime: 'x', DeskProgressionAction: 0, ActionSource: 0 },
          ]),
        },
        { DynamicParamA: encodeBase64Json([]) },
      ],
    });
    const r = await callWebhook({ body }, logs);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ notifications: 4, messages: 1, deadLettered: 3 });
    const queues = await drainAll();
    expect((queues['engage-desk'] as { id: string }[]).map((m) => m.id)).toEqual(['e1:0']);
    // The messages of one request are written concurrently: their queue order is not theirs, so compare by id.
    const dead = (
      queues['engage-deadletter'] as {
        id: string;
        type: string;
        data: { reason: string; origin: string; location: unknown; received: unknown };
      }[]
    ).sort((a, b) => a.id.localeCompare(b.id));
    expect(dead.map((m) => [m.id, m.type, m.data.origin])).toEqual([
      ['e1:1', 'com.engage-bridge.deadletter', 'engage-webhook'],
      ['e1:2', 'com.engage-bridge.deadletter', 'engage-webhook'],
      ['e1:3', 'com.engage-bridge.deadletter', 'engage-webhook'],
    ]);
    expect(dead[0].data).toMatchObject({
      reason: expect.stringMatching(/Notifications\.1\.DynamicParamA is not base64/),
      location: { envelopeId: 'e1', index: 1, attempt: 2 },
      received: { Action: 'DESK', DynamicParamA: '!!not base64!!' },
    });
    expect(dead[1].data.reason).toMatch(/does not match the DESKPROGRESSION payload.*UpdateTime/);
    expect(dead[2].data).toMatchObject({
      reason: expect.stringMatching(/Notifications\.3 is not a notification \(Action/),
      received: { DynamicParamA: encodeBase64Json([]) },
    });
    expect(logs.join('\n')).toMatch(/3 notification\(s\) could not be decoded or validated and went to engage-deadletter/);
    // The pusher's retry of the same envelope lands the same ids again (idempotent consumers), still 200.
    expect((await callWebhook({ body })).status).toBe(200);
    expect(Object.keys(await drainAll()).sort()).toEqual(['engage-deadletter', 'engage-desk']);
  });
  test('an envelope whose own fields are wrong is still 400; enforce still refuses a bad signature', async () => {
    const r = await callWebhook({ body: JSON.stringify({ Id: '', Notifications: [{ Action: 'DESK', DynamicParamA: 'x' }] }) });
    expect(r.status).toBe(400);
    configureWebhook(conn(), { ENGAGE_DECODER: 'base64-json', ENGAGE_SIGNATURE_MODE: 'enforce', ENGAGE_WEBHOOK_SECRET: 's3cret-webhook' });
    const body = envelope('e9', [{ Action: 'DESK', raw: '!!not base64!!' }]);
    expect((await callWebhook({ body, headers: { 'ms-signature': signBody('wrong', body) } })).status).toBe(401);
    expect(await drainAll()).toEqual({});
  });
  test('ENGAGE_PAYLOAD_VALIDATION=log enqueues a payload that does not match', async () => {
    configureWebhook(conn(), { ENGAGE_DECODER: 'base64-json', ENGAGE_PAYLOAD_VALIDATION: 'log' });
    const logs: string[] = [];
    const r = await callWebhook({ body: envelope('e3', [{ Action: 'DESK', payload: [{ ResourceItemID: 5 }] }]) }, logs);
    expect(r.status).toBe(200);
    expect(logs.join('\n')).toMatch(/does not match the DESK payload/);
    const [offSchema] = (await drainAll())['engage-desk'];
    expect(() => expectMatchesContract('engage-desk', offSchema)).toThrow(/does not match/); // the contract describes the default, enforce
  });
  test('413 over ENGAGE_WEBHOOK_MAX_BYTES, by content-length and by actual size', async () => {
    configureWebhook(conn(), { ENGAGE_DECODER: 'base64-json', ENGAGE_WEBHOOK_MAX_BYTES: '2048' });
    const big = envelope('big', [{ Action: 'VISITOR', payload: { note: 'x'.repeat(3000) } }]);
    expect((await callWebhook({ body: big })).status).toBe(413);
    expect((await callWebhook({ body: big, headers: { 'content-length': String(Buffer.byteLength(big)) } })).status).toBe(413);
    expect(await drainAll()).toEqual({});
  });
});

describe('hostile input: bounded parsing, all or nothing, never a 500', () => {
  const nested = (depth: number) => Buffer.from('['.repeat(depth) + ']'.repeat(depth)).toString('base64');
  const error = (r: { json: unknown }) => (r.json as { error: string }).error;

  /** Reasons of the dead-letter messages (claim checks resolved: they keep the notification as received). */
  const deadLetterReasons = async (queues: Record<string, unknown[]>) =>
    Promise.all(
      (queues['engage-deadletter'] ?? []).map(
        async (m) => ((await readMessageBody(m, await getStorage())) as { data: { reason: string } }).data.reason,
      ),
    );

  test('nesting deeper than ENGAGE_WEBHOOK_MAX_DEPTH in a decoded payload: that notification is dead-lettered with the reason, never a 500', async () => {
    // 10,000 levels parse, but serialising them would overflow the stack (a 500 after notification 0 was written).
    const r = await callWebhook({
      body: envelope('deep', [
        { Action: 'DESK', payload: desk(1) },
        { Action: 'VISITOR', raw: nested(10_000) },
      ]),
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ messages: 1, deadLettered: 1 });
    const queues = await drainAll();
    expect(queues['engage-desk']).toHaveLength(1);
    expect(await deadLetterReasons(queues)).toEqual([
      'Notifications.1.DynamicParamA nests deeper than 64 levels (ENGAGE_WEBHOOK_MAX_DEPTH) (ENGAGE_DECODER=base64-json)',
    ]);
  });
  test('nesting deeper than ENGAGE_WEBHOOK_MAX_DEPTH anywhere in the body → 400', async () => {
    const body = envelope('deep-body', [{ Action: 'DESK', payload: desk(1) }]).replace(
      /\}$/,
      `,"Extra":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    );
    const r = await callWebhook({ body });
    expect(r.status).toBe(400);
    expect(error(r)).toBe('body nests deeper than 64 levels (ENGAGE_WEBHOOK_MAX_DEPTH)');
    expect(await drainAll()).toEqual({});
  });
  test('more elements than ENGAGE_WEBHOOK_MAX_ELEMENTS in a payload → dead-lettered; fewer are taken (claim check)', async () => {
    const huge = await callWebhook({ body: envelope('huge', [{ Action: 'VISITOR', payload: Array(150_000).fill(0) }]) });
    expect(huge.status).toBe(200);
    expect(await deadLetterReasons(await drainAll())).toEqual([
      expect.stringMatching(/^Notifications\.0\.DynamicParamA has more than 100000 elements \(ENGAGE_WEBHOOK_MAX_ELEMENTS\)/),
    ]);
    const items = Array.from({ length: 20_000 }, (_, i) => ({ ResourceItemID: i }));
    const large = await callWebhook({ body: envelope('large-array', [{ Action: 'VISITOR', payload: items }]) });
    expect(large.status).toBe(200);
    const [msg] = (await drainAll())['engage-visitor'];
    expect(await readMessageBody(msg, await getStorage())).toMatchObject({ id: 'large-array:0', subject: '0', data: items });
  });
  test('the limits are settings', async () => {
    configureWebhook(conn(), { ENGAGE_DECODER: 'base64-json', ENGAGE_WEBHOOK_MAX_DEPTH: '3', ENGAGE_WEBHOOK_MAX_ELEMENTS: '10' });
    expect((await callWebhook({ body: envelope('small', [{ Action: 'DESK', payload: desk(1) }]) })).status).toBe(200);
    expect((await callWebhook({ body: envelope('me', [{ Action: 'MEETINGEXTERNAL', payload: meetingExternal }]) })).json).toMatchObject({
      deadLettered: 1,
    });
    const more = await callWebhook({
      body: envelope('two', [
        { Action: 'DESK', payload: desk(1) },
        { Action: 'DESK', payload: desk(2) },
      ]),
    });
    expect(error(more)).toBe('body has more than 10 elements (ENGAGE_WEBHOOK_MAX_ELEMENTS)');
    const queues = await drainAll();
    expect(queues['engage-desk']).toHaveLength(1);
    expect(await deadLetterReasons(queues)).toEqual([expect.stringMatching(/^Notifications\.0\.DynamicParamA nests deeper than 3 levels/)]);
  });
  test('a storage error after the first write → 503 (not 500); the retry carries the same envelope ids', async () => {
    // Blob requests sent to the queue service fail with 400: the claim check of notification 1 fails
    // after notification 0 was written to its queue.
    const blobToQueuePort = conn().replace(/BlobEndpoint=http:\/\/127\.0\.0\.1:\d+/, `BlobEndpoint=http://127.0.0.1:${azurite.queuePort}`);
    configureWebhook(blobToQueuePort, { ENGAGE_DECODER: 'base64-json' });
    const logs: string[] = [];
    const body = envelope('partial', [
      { Action: 'DESK', payload: desk(1) },
      { Action: 'VISITOR', payload: { Notes: 'n'.repeat(100_000) } },
    ]);
    const first = await callWebhook({ body }, logs);
    expect(first.status).toBe(503);
    expect(logs.join('\n')).toMatch(
      /writing 2 message\(s\) failed \(RestError: .*answering 503 so the pusher retries \(Id=partial, Attempt=1\)/,
    );
    configureWebhook(conn(), { ENGAGE_DECODER: 'base64-json' });
    expect((await callWebhook({ body: body.replace('"Attempt":1', '"Attempt":2') })).status).toBe(200);
    const queues = await drainAll();
    expect((queues['engage-desk'] as { id: string }[]).map((m) => m.id)).toEqual(['partial:0', 'partial:0']);
    expect((queues['engage-visitor'] as { id: string }[]).map((m) => m.id)).toEqual(['partial:1']);
  });
});

describe('ms-signature modes', () => {
  const body = envelope('sig', [{ Action: 'DESK', payload: desk(101) }]);
  const good = signBody('s3cret-webhook', body);
  const bad = signBody('other', body);

  test('off: unsigned and wrongly signed bodies are accepted', async () => {
    configureWebhook(conn(), { ENGAGE_DECODER: 'base64-json', ENGAGE_SIGNATURE_MODE: 'off', ENGAGE_WEBHOOK_SECRET: 's3cret-webhook' });
    expect((await callWebhook({ body })).status).toBe(200);
    expect((await callWebhook({ body, headers: { 'ms-signature': bad } })).status).toBe(200);
  });
  test('log: a mismatch is logged and accepted', async () => {
    configureWebhook(conn(), { ENGAGE_DECODER: 'base64-json', ENGAGE_SIGNATURE_MODE: 'log', ENGAGE_WEBHOOK_SECRET: 's3cret-webhook' });
    const logs: string[] = [];
    expect((await callWebhook({ body, headers: { 'ms-signature': bad } }, logs)).status).toBe(200);
    expect(logs.join('\n')).toMatch(/ms-signature mismatch/);
    expect(logs.join('\n')).not.toContain('s3cret-webhook');
  });
  test('enforce: missing, malformed or wrong signature → 401; valid → 200', async () => {
    configureWebhook(conn(), { ENGAGE_DECODER: 'base64-json', ENGAGE_SIGNATURE_MODE: 'enforce', ENGAGE_WEBHOOK_SECRET: 's3cret-webhook' });
    expect((await callWebhook({ body })).status).toBe(401);
    expect((await callWebhook({ body, headers: { 'ms-signature': 'sha256=zz' } })).status).toBe(401);
    expect((await callWebhook({ body, headers: { 'ms-signature': bad } })).status).toBe(401);
    expect((await drainAll())['engage-desk']).toBeUndefined();
    expect((await callWebhook({ body, headers: { 'ms-signature': good } })).status).toBe(200);
    expect((await drainAll())['engage-desk']).toHaveLength(1);
  });
  test('rotation: the current and the previous secret are both accepted, any other → 401; the previous one is logged, never its value', async () => {
    configureWebhook(conn(), {
      ENGAGE_DECODER: 'base64-json',
      ENGAGE_SIGNATURE_MODE: 'enforce',
      ENGAGE_WEBHOOK_SECRET: 'n3w-secret',
      ENGAGE_WEBHOOK_SECRET_PREVIOUS: 's3cret-webhook',
    });
    const logs: string[] = [];
    expect((await callWebhook({ body, headers: { 'ms-signature': signBody('n3w-secret', body) } }, logs)).status).toBe(200);
    expect(logs.join('\n')).not.toMatch(/ENGAGE_WEBHOOK_SECRET_PREVIOUS/);
    expect((await callWebhook({ body, headers: { 'ms-signature': good } }, logs)).status).toBe(200);
    expect(logs.join('\n')).toMatch(/matches ENGAGE_WEBHOOK_SECRET_PREVIOUS/);
    expect((await callWebhook({ body, headers: { 'ms-signature': bad } })).status).toBe(401);
    expect((await callWebhook({ body })).status).toBe(401);
    expect((await drainAll())['engage-desk']).toHaveLength(2);
    expect(logs.join('\n')).not.toMatch(/s3cret|n3w-secret/);
    // Rotation over (the previous secret removed): a push still signed with it is refused.
    configureWebhook(conn(), { ENGAGE_DECODER: 'base64-json', ENGAGE_SIGNATURE_MODE: 'enforce', ENGAGE_WEBHOOK_SECRET: 'n3w-secret' });
    expect((await callWebhook({ body, headers: { 'ms-signature': good } })).status).toBe(401);
  });
  test('enforce without a secret is a configuration error, not a silent accept', async () => {
    configureWebhook(conn(), { ENGAGE_SIGNATURE_MODE: 'enforce' });
    expect((await callWebhook({ body })).status).toBe(500);
  });
});

describe('routing and message format', () => {
  test('default routes: one message per notification, CloudEvents envelope with deterministic id', async () => {
    const r = await callWebhook({
      body: envelope('abc', [
        { Action: 'DESK', payload: desk(101) },
        { Action: 'MeetingExternal', payload: meetingExternal },
        { Action: 'FUTURETYPE', payload: { x: 1 } },
      ]),
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ notifications: 3, messages: 3, unrouted: 1 });
    const queues = await drainAll();
    for (const [queue, messages] of Object.entries(queues)) for (const m of messages) expectMatchesContract(queue, m);
    expect(queues['engage-desk']).toEqual([
      expect.objectContaining({
        specversion: '1.0',
        id: 'abc:0',
        type: 'com.eptura.engage.desk',
        source: '/eptura/engage',
        subject: '101',
        data: desk(101),
      }),
    ]);
    expect(queues['engage-meetingexternal']).toEqual([expect.objectContaining({ id: 'abc:1', subject: '96', data: meetingExternal })]);
    expect(queues['engage-unrouted']).toEqual([expect.objectContaining({ id: 'abc:2', type: 'com.eptura.engage.futuretype' })]);
  });
  test('a retry (same Id, higher Attempt) carries the same envelope ids', async () => {
    await callWebhook({ body: envelope('same', [{ Action: 'DESK', payload: desk(1) }], 1) });
    await callWebhook({ body: envelope('same', [{ Action: 'DESK', payload: desk(1) }], 2) });
    const ids = ((await drainAll())['engage-desk'] as { id: string }[]).map((m) => m.id);
    expect(ids).toEqual(['same:0', 'same:0']);
  });
  test('filtered route keeps only its resources; an unreadable resource id is kept and counted', async () => {
    const routes = JSON.stringify([
      { eventTypes: ['DESK', 6], queue: 'desk-filtered', resourceIds: [101] },
      { eventTypes: ['DESK'], queue: 'desk-all', format: 'raw' },
    ]);
    configureWebhook(conn(), { ENGAGE_DECODER: 'base64-json', ENGAGE_ROUTES: routes });
    const r = await callWebhook({
      body: envelope('f', [
        { Action: 'DESK', payload: desk(101) },
        { Action: 'DESK', payload: desk(96) },
        { Action: 'VISITOR', payload: {} },
      ]),
    });
    expect(r.status).toBe(200);
    let queues = await drainAll();
    expect(queues['desk-filtered']).toEqual([expect.objectContaining({ id: 'f:0', subject: '101' })]);
    expect(queues['desk-all']).toEqual([desk(101), desk(96)]); // raw: the payload alone
    for (const m of [...queues['desk-filtered'], ...queues['desk-all']]) expectMatchesContract('engage-desk', m);
    expect(queues['engage-unrouted']).toHaveLength(1);

    configureWebhook(conn(), { ENGAGE_DECODER: 'none', ENGAGE_ROUTES: routes });
    const enc = await callWebhook({ body: envelope('g', [{ Action: 'DESK', raw: 'opaque-encrypted-text' }]) });
    expect(enc.json).toMatchObject({ filterUnjudged: 1 });
    queues = await drainAll();
    expect(queues['desk-filtered']).toEqual([expect.objectContaining({ id: 'g:0', data: 'opaque-encrypted-text' })]);
    expect(queues['desk-all']).toEqual(['opaque-encrypted-text']);
    for (const m of [...queues['desk-filtered'], ...queues['desk-all']]) expectMatchesContract('engage-desk', m);
  });
  test('a message over 64 KiB goes to a claim-check blob and reads back whole', async () => {
    const payload = { Notes: 'n'.repeat(100_000), ResourceItemID: 5 };
    const r = await callWebhook({ body: envelope('large', [{ Action: 'VISITOR', payload }]) });
    expect(r.status).toBe(200);
    const [msg] = (await drainAll())['engage-visitor'];
    expect(msg).toMatchObject({ id: 'large:0', claimcheck: expect.stringMatching(/^claim-checks\//) });
    expect(expectMatchesContract('engage-visitor', msg)).toBe('claim-check-pointer');
    const full = await readMessageBody(msg, await getStorage());
    expect(full).toMatchObject({ id: 'large:0', data: payload });
  });
});
