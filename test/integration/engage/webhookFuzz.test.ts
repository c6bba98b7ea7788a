/**
 * Fuzz: ≥ 2,000 generated webhook bodies (valid, near-valid and garbage pusher envelopes) against
 * the real handler + Azurite. Never a 500; every enqueued message matches a notification of an
 * accepted request (queue by Action, envelope id `<Id>:<index>`, data = the decoded payload; a
 * notification that cannot be decoded or validated: the dead-letter queue, data.received = it as
 * sent), and nothing from a rejected request is enqueued.
 */
import fc from 'fast-check';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { decoders } from '../../../shared/engage/decoder';
import { EVENT_TYPE_NAMES, payloadSchemas, type EventTypeName } from '../../../shared/engage/events';
import { pusherNotificationSchema } from '../../../shared/engage/pusherEnvelope';
import { drainQueue } from '../../helpers/queues';
import { configureWebhook } from './env';
import { callWebhook } from './serveWebhook';

let azurite: RunningAzurite;
beforeAll(async () => {
  azurite = await startAzurite();
  configureWebhook(azurite.connectionString, { ENGAGE_DECODER: 'base64-json' });
});
afterAll(async () => {
  await azurite?.stop();
});

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');
const int = fc.integer({ min: 0, max: 1_000_000 });
const date = fc.constantFrom('2026-11-23T00:00:00', '0001-01-01T00:00:00', '2019-08-28T00:00:00');

/** A documented-shape payload per Action (lenient types get any JSON). */
const payloadFor: Record<string, fc.Arbitrary<unknown>> = {
  DESK: fc.array(fc.record({ Date: date, BookingID: int, ResourceItemID: int, Action: fc.constantFrom(0, 1), UntilFurtherNotice: fc.boolean() }), { maxLength: 3 }),
  DESKPROGRESSION: fc.array(fc.record({ BookingId: int, ResourceItemId: int, UpdateTime: date, DeskProgressionAction: fc.constantFrom(0, 1, 2), ActionSource: fc.constantFrom(0, 1) }), { maxLength: 3 }),
  MEETINGPROGRESSION: fc.array(fc.record({ BookingId: int, ResourceItemId: int, UpdatedTime: date, MeetingProgressionAction: fc.constantFrom(0, 1, 2), ActionSource: fc.constantFrom(0, 1) }), { maxLength: 3 }),
  MEETINGEXTERNAL: fc.dictionary(date, fc.record({ ChangedItems: fc.array(fc.record({ Action: fc.constantFrom(0, 1), BookingID: int, ResourceItemID: int }), { maxLength: 3 }) }), { maxKeys: 2 }),
};
const anyJson = fc.jsonValue({ maxDepth: 3 });

const action = fc.oneof(
  fc.constantFrom(...EVENT_TYPE_NAMES),
  fc.constantFrom(...EVENT_TYPE_NAMES).map((n) => n.toLowerCase()),
  fc.constantFrom('FUTURETYPE', ' Desk ', 'x'),
);
const validNotification = action.chain((a) => (payloadFor[a.trim().toUpperCase()] ?? anyJson).map((p) => ({ Action: a, DynamicParamA: b64(p) })));
const validEnvelope = fc.record({
  Id: fc.uuid().map((u) => u.replace(/-/g, '')),
  Attempt: fc.integer({ min: 1, max: 3 }),
  Properties: fc.constant({ StaticParamA: 'DateTime' }),
  Notifications: fc.array(validNotification, { minLength: 1, maxLength: 3 }),
});

type Env = Record<string, unknown>;
const mutations: fc.Arbitrary<(e: Env) => unknown>[] = [
  fc.constant((e: Env) => ({ ...e, Id: undefined })),
  fc.constant((e: Env) => ({ ...e, Id: '' })),
  fc.constant((e: Env) => ({ ...e, Attempt: '1' })),
  fc.constant((e: Env) => ({ ...e, Notifications: [] })),
  fc.constant((e: Env) => ({ ...e, Notifications: 'DESK' })),
  anyJson.map((v) => (e: Env) => ({ ...e, Notifications: [...(e.Notifications as unknown[]), v] })),
  fc.string().map((s) => (e: Env) => ({ ...e, Notifications: [{ Action: 'DESK', DynamicParamA: s }] })),
  fc.string().map((s) => (e: Env) => ({ ...e, Notifications: [{ Action: 'DESK', DynamicParamA: b64(`{${s}`) }] })),
  anyJson.map((v) => (e: Env) => ({ ...e, Notifications: [{ Action: 'DESKPROGRESSION', DynamicParamA: b64(v) }] })),
  fc.constant((e: Env) => ({ ...e, Notifications: [{ Action: '', DynamicParamA: b64([]) }] })),
  fc.constant((e: Env) => ({ ...e, Notifications: [{ DynamicParamA: b64([]) }] })),
  fc.constant((e: Env) => ({ ...e, Notifications: [{ Action: 'DESK', DynamicParamA: 42 }] })),
  fc.constant((e: Env) => [e]),
];
const nearValid = fc.tuple(validEnvelope, fc.oneof(...mutations)).map(([e, m]) => m(e as Env));

type Body = { text: string | Buffer; contentType: string };
const bodies: fc.Arbitrary<Body> = fc.oneof(
  { weight: 4, arbitrary: validEnvelope.map((e) => ({ text: JSON.stringify(e), contentType: 'application/json; charset=utf-8' })) },
  { weight: 4, arbitrary: nearValid.map((e) => ({ text: JSON.stringify(e) ?? '', contentType: 'application/json' })) },
  { weight: 1, arbitrary: anyJson.map((v) => ({ text: JSON.stringify(v), contentType: 'application/json' })) },
  { weight: 1, arbitrary: fc.string().map((s) => ({ text: s, contentType: 'application/json' })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({ text: Buffer.from(b), contentType: 'application/json' })) },
  { weight: 1, arbitrary: fc.tuple(fc.string(), fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data')).map(([s, contentType]) => ({ text: s, contentType })) },
);

/** The oracle: messages an accepted body must produce, as `queue|id|data` keys. */
function expectedMessages(text: string | Buffer): string[] {
  const env = JSON.parse(text.toString()) as { Id: string; Notifications: unknown[] };
  return env.Notifications.map((raw, i) => {
    const id = `${env.Id.trim()}:${i}`;
    const n = pusherNotificationSchema.safeParse(raw);
    const decoded = n.success ? decoders['base64-json'](n.data.DynamicParamA) : undefined;
    const a = n.success ? n.data.Action.trim().toUpperCase() : '';
    const known = (EVENT_TYPE_NAMES as string[]).includes(a) ? (a as EventTypeName) : undefined;
    if (!decoded?.ok || (known && !payloadSchemas[known].safeParse(decoded.value).success)) return `engage-deadletter|${id}|${JSON.stringify(raw)}`;
    return `${known ? `engage-${a.toLowerCase()}` : 'engage-unrouted'}|${id}|${JSON.stringify(decoded.value)}`;
  });
}

test('2,000 generated bodies: no 500, only valid notifications enqueued, each exactly as sent', async () => {
  const expected = new Map<string, number>();
  const statuses = new Map<number, number>();
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(bodies, async (b) => {
      runs++;
      const r = await callWebhook({ body: b.text, headers: { 'content-type': b.contentType } });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      expect([200, 400, 415]).toContain(r.status);
      if (r.status === 200) for (const k of expectedMessages(b.text)) expected.set(k, (expected.get(k) ?? 0) + 1);
    }),
    { numRuns: 2000 },
  );
  expect(runs).toBeGreaterThanOrEqual(2000);
  expect(statuses.get(200) ?? 0).toBeGreaterThan(300);
  expect(statuses.get(400) ?? 0).toBeGreaterThan(300);

  const svc = QueueServiceClient.fromConnectionString(azurite.connectionString);
  const actual = new Map<string, number>();
  for await (const q of svc.listQueues()) {
    for (const m of await drainQueue(azurite.connectionString, q.name)) {
      const body = m.body as { id: string; data: { received?: unknown }; specversion: string };
      expect(body.specversion).toBe('1.0');
      const k = `${q.name}|${body.id}|${JSON.stringify(q.name === 'engage-deadletter' ? body.data.received : body.data)}`;
      actual.set(k, (actual.get(k) ?? 0) + 1);
    }
  }
  expect(actual).toEqual(expected);
}, 60_000);
