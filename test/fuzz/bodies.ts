/**
 * Generated webhook bodies, by family: valid pusher envelopes, near-valid mutations, any JSON,
 * garbage, wrong content types, and the hostile families (deep nesting, huge arrays, duplicate keys,
 * `__proto__` keys; each sometimes within the limits, so it must be taken exactly as sent). The
 * oracle says which messages an accepted body must produce. Shared by the in-process fuzz test and
 * the host fuzz (`test/fuzz/hostFuzz.ts`, `npm run fuzz`).
 */
import fc from 'fast-check';
import { decoders } from '../../shared/engage/decoder';
import { EVENT_TYPE_NAMES, payloadSchemas, type EventTypeName } from '../../shared/engage/events';
import type { JsonLimits } from '../../shared/engage/jsonLimits';
import { pusherNotificationSchema } from '../../shared/engage/pusherEnvelope';

export type BodyFamily =
  'valid' | 'nearValid' | 'anyJson' | 'garbage' | 'contentType' | 'deepNesting' | 'hugeArray' | 'duplicateKeys' | 'protoKeys';

export interface FuzzBody {
  family: BodyFamily;
  text: string | Buffer;
  contentType: string;
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');
const int = fc.integer({ min: 0, max: 1_000_000 });
const date = fc.constantFrom('2026-11-23T00:00:00', '0001-01-01T00:00:00', '2019-08-28T00:00:00');
const JSON_TYPE = 'application/json';

/** A documented-shape payload per Action (lenient types get any JSON). */
const payloadFor: Record<string, fc.Arbitrary<unknown>> = {
  DESK: fc.array(
    fc.record({ Date: date, BookingID: int, ResourceItemID: int, Action: fc.constantFrom(0, 1), UntilFurtherNotice: fc.boolean() }),
    { maxLength: 3 },
  ),
  DESKPROGRESSION: fc.array(
    fc.record({
      BookingId: int,
      ResourceItemId: int,
      UpdateTime: date,
      DeskProgressionAction: fc.constantFrom(0, 1, 2),
      ActionSource: fc.constantFrom(0, 1),
    }),
    { maxLength: 3 },
  ),
  MEETINGPROGRESSION: fc.array(
    fc.record({
      BookingId: int,
      ResourceItemId: int,
      UpdatedTime: date,
      MeetingProgressionAction: fc.constantFrom(0, 1, 2),
      ActionSource: fc.constantFrom(0, 1),
    }),
    { maxLength: 3 },
  ),
  MEETINGEXTERNAL: fc.dictionary(
    date,
    fc.record({
      ChangedItems: fc.array(fc.record({ Action: fc.constantFrom(0, 1), BookingID: int, ResourceItemID: int }), { maxLength: 3 }),
    }),
    { maxKeys: 2 },
  ),
};
const anyJson = fc.jsonValue({ maxDepth: 3 });
/** Actions whose payload has no documented schema: any JSON is taken. */
const lenientAction = fc.constantFrom('VISITOR', 'MEETING', 'RESOURCE', 'IPPHONE', 'FUTURETYPE');

const action = fc.oneof(
  fc.constantFrom(...EVENT_TYPE_NAMES),
  fc.constantFrom(...EVENT_TYPE_NAMES).map((n) => n.toLowerCase()),
  fc.constantFrom('FUTURETYPE', ' Desk ', 'x'),
);
const validNotification = action.chain((a) =>
  (payloadFor[a.trim().toUpperCase()] ?? anyJson).map((p) => ({ Action: a, DynamicParamA: b64(p) })),
);
export const validEnvelope = fc.record({
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

/** An envelope around one notification whose DynamicParamA is the base64 of `payloadText`. */
function envelopeText(id: string, notifications: { Action: string; payloadText: string }[]): string {
  return JSON.stringify({
    Id: id,
    Attempt: 1,
    Properties: { StaticParamA: 'DateTime' },
    Notifications: notifications.map((n) => ({ Action: n.Action, DynamicParamA: b64(n.payloadText) })),
  });
}
const id = fc.uuid().map((u) => u.replace(/-/g, ''));

/** Nested arrays/objects `depth` deep, as text (never built as a value: it may be far deeper than the stack). */
const nestedText = (depth: number, objects: boolean) =>
  objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** The limits the webhook runs with (ENGAGE_WEBHOOK_MAX_DEPTH is the default, 64, everywhere). */
export interface BodyOptions {
  /** Weight of the hostile families against the rest (an integer, default 1). */
  hostile?: number;
  /** ENGAGE_WEBHOOK_MAX_ELEMENTS of the webhook under test: huge arrays are generated on both sides of it (default 100,000). */
  maxElements?: number;
  /** Deepest nesting generated (default 250,000: far past the stack). */
  maxNesting?: number;
}

const deepNesting = (maxNesting: number): fc.Arbitrary<FuzzBody> =>
  fc
    .tuple(
      id,
      lenientAction,
      fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 60 }) }, // within ENGAGE_WEBHOOK_MAX_DEPTH (the envelope adds a level or two)
        { weight: 3, arbitrary: fc.integer({ min: 65, max: 2_000 }) },
        { weight: 1, arbitrary: fc.constantFrom(10_000, 100_000, 250_000).map((d) => Math.min(d, maxNesting)) },
      ),
      fc.boolean(),
      fc.constantFrom('payload', 'notification', 'properties', 'root'),
    )
    .map(([envId, a, d, objects, where]) => {
      const nested = nestedText(where === 'payload' ? d : Math.min(d, 150_000), objects && d <= 100_000);
      if (where === 'payload') return envelopeText(envId, [{ Action: a, payloadText: nested }]);
      const base = envelopeText(envId, [{ Action: a, payloadText: '{}' }]);
      if (where === 'notification') return base.replace('{"Action":', `{"Extra":${nested},"Action":`);
      if (where === 'properties') return base.replace('"StaticParamA":', `"Deep":${nested},"StaticParamA":`);
      return base.replace(/\}$/, `,"Extra":${nested}}`);
    })
    .map((text) => ({ family: 'deepNesting', text, contentType: JSON_TYPE }));

/** `count` elements as JSON array text (zeros or small objects naming a resource). */
const arrayText = (count: number, objects: boolean) =>
  objects ? `[${'{"ResourceItemID":7},'.repeat(count - 1)}{"ResourceItemID":8}]` : `[${'0,'.repeat(count - 1)}0]`;
const hugeArray = (maxElements: number): fc.Arbitrary<FuzzBody> =>
  fc
    .tuple(
      id,
      lenientAction,
      fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: Math.ceil(maxElements / 100), max: Math.floor(maxElements / 5) }) },
        { weight: 3, arbitrary: fc.integer({ min: maxElements + 1, max: Math.floor(Math.min(maxElements * 3.5, 350_000)) }) },
        { weight: 1, arbitrary: fc.integer({ min: 400_000, max: 600_000 }) }, // over ENGAGE_WEBHOOK_MAX_BYTES: 413
      ),
      fc.boolean(),
      fc.constantFrom('payload', 'envelope', 'notifications'),
    )
    .map(([envId, a, count, objects, where]) => {
      if (where === 'payload')
        return envelopeText(envId, [{ Action: a, payloadText: arrayText(count, objects && count <= maxElements / 5) }]);
      if (where === 'notifications') {
        const one = JSON.stringify({ Action: a, DynamicParamA: b64({}) });
        // More than the 1,000 notifications an envelope may hold (or than the element limit): refused, never 1,000s of writes.
        return `{"Id":"${envId}","Notifications":[${`${one},`.repeat(Math.max(1_001, Math.min(count, 20_000)) - 1)}${one}]}`;
      }
      return envelopeText(envId, [{ Action: a, payloadText: '[]' }]).replace(/\}$/, `,"Extra":${arrayText(count, false)}}`);
    })
    .map((text) => ({ family: 'hugeArray', text, contentType: JSON_TYPE }));

const duplicateKeys: fc.Arbitrary<FuzzBody> = fc
  .tuple(validEnvelope, id, fc.constantFrom('shadowed-id', 'overriding-id', 'shadowed-notifications', 'action', 'payload'))
  .map(([e, other, how]) => {
    const text = JSON.stringify(e);
    switch (how) {
      case 'shadowed-id': // an earlier Id and Notifications lose to the real ones (last wins)
        return text.replace(/^\{/, `{"Id":"${other}","Notifications":"x",`);
      case 'overriding-id':
        return text.replace(/\}$/, `,"Id":"${other}"}`);
      case 'shadowed-notifications':
        return text.replace(/^\{/, `{"Notifications":[{"Action":"DESK","DynamicParamA":"!!"}],`);
      case 'action':
        return text.replace(/\{"Action":/g, '{"Action":"VISITOR","Action":');
      default:
        return envelopeText(other, [{ Action: 'VISITOR', payloadText: '{"ResourceItemID":1,"ResourceItemID":2,"a":[1],"a":{"b":2}}' }]);
    }
  })
  .map((text) => ({ family: 'duplicateKeys', text, contentType: JSON_TYPE }));

const protoKeys: fc.Arbitrary<FuzzBody> = fc
  .tuple(validEnvelope, id, fc.constantFrom('root', 'root-only', 'notification', 'properties', 'payload', 'constructor'))
  .map(([e, other, where]) => {
    const text = JSON.stringify(e);
    switch (where) {
      case 'root':
        return text.replace(/^\{/, '{"__proto__":{"Attempt":99,"polluted":true},');
      case 'root-only': // the envelope fields only in __proto__: must not be taken from there
        return `{"__proto__":{"Id":"${other}","Notifications":${JSON.stringify(e.Notifications)}}}`;
      case 'notification':
        return text.replace(/\{"Action":/g, '{"__proto__":{"Action":"VISITOR","DynamicParamA":"e30="},"Action":');
      case 'properties':
        return text.replace('"StaticParamA":', '"__proto__":{"isAdmin":true},"StaticParamA":');
      case 'payload':
        return envelopeText(other, [
          { Action: 'VISITOR', payloadText: '{"__proto__":{"ResourceItemID":5},"constructor":{"prototype":{"x":1}},"ResourceItemID":6}' },
        ]);
      default:
        return text.replace(/^\{/, '{"constructor":{"prototype":{"polluted":true}},');
    }
  })
  .map((text) => ({ family: 'protoKeys', text, contentType: JSON_TYPE }));

/** Every family. */
export function fuzzBodies({ hostile = 1, maxElements = 100_000, maxNesting = 250_000 }: BodyOptions = {}): fc.Arbitrary<FuzzBody> {
  return fc.oneof(
    {
      weight: 8,
      arbitrary: validEnvelope.map((e): FuzzBody => ({
        family: 'valid',
        text: JSON.stringify(e),
        contentType: 'application/json; charset=utf-8',
      })),
    },
    {
      weight: 8,
      arbitrary: nearValid.map((e): FuzzBody => ({ family: 'nearValid', text: JSON.stringify(e) ?? '', contentType: JSON_TYPE })),
    },
    { weight: 2, arbitrary: anyJson.map((v): FuzzBody => ({ family: 'anyJson', text: JSON.stringify(v), contentType: JSON_TYPE })) },
    { weight: 1, arbitrary: fc.string().map((s): FuzzBody => ({ family: 'garbage', text: s, contentType: JSON_TYPE })) },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 200 })
        .map((b): FuzzBody => ({ family: 'garbage', text: Buffer.from(b), contentType: JSON_TYPE })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.string(), fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data'))
        .map(([s, contentType]): FuzzBody => ({ family: 'contentType', text: s, contentType })),
    },
    { weight: 2 * hostile, arbitrary: deepNesting(maxNesting) },
    { weight: 2 * hostile, arbitrary: hugeArray(maxElements) },
    { weight: 2 * hostile, arbitrary: duplicateKeys },
    { weight: 2 * hostile, arbitrary: protoKeys },
  );
}

/** Where the oracle sends messages: the queue of an upper-case Action, the dead-letter queue, the webhook's limits. */
export interface OracleOptions {
  queueOf: (action: string) => string;
  deadLetterQueue: string;
  limits: JsonLimits;
}

/**
 * The oracle: the messages an accepted body (ENGAGE_DECODER=base64-json) must produce, as
 * `queue|id|data` keys (data as JSON text, exactly as sent: JSON.parse semantics, so the last of
 * duplicate keys wins and `__proto__` stays an own key). A notification that cannot be read,
 * decoded within the limits or validated goes to the dead-letter queue, data = the notification as received.
 */
export function expectedMessages(text: string | Buffer, o: OracleOptions): string[] {
  const env = JSON.parse(text.toString()) as { Id: string; Notifications: unknown[] };
  return env.Notifications.map((raw, i) => {
    const id = `${env.Id.trim()}:${i}`;
    const n = pusherNotificationSchema.safeParse(raw);
    const decoded = n.success ? decoders['base64-json'](n.data.DynamicParamA, o.limits) : undefined;
    const action = n.success ? n.data.Action.trim().toUpperCase() : '';
    const known = (EVENT_TYPE_NAMES as readonly string[]).includes(action) ? (action as EventTypeName) : undefined;
    if (!decoded?.ok || (known && !payloadSchemas[known].safeParse(decoded.value).success))
      return messageKey(o.deadLetterQueue, id, JSON.stringify(raw));
    return messageKey(o.queueOf(action), id, JSON.stringify(decoded.value));
  });
}

/** The key of a message found in a queue (dead-letter messages compare what they received). */
export function foundKey(queue: string, deadLetterQueue: string, body: { id: string; data: unknown }): string {
  return messageKey(queue, body.id, JSON.stringify(queue === deadLetterQueue ? (body.data as { received: unknown }).received : body.data));
}

export function messageKey(queue: string, id: string, dataJson: string): string {
  return `${queue}|${id}|${dataJson}`;
}

/** The default routes' queue of an Action (what `engage-<action>` / `engage-unrouted` the webhook writes to). */
export function defaultQueueOf(prefix: string): (action: string) => string {
  return (a) => ((EVENT_TYPE_NAMES as readonly string[]).includes(a) ? `${prefix}-${a.toLowerCase()}` : `${prefix}-unrouted`);
}
