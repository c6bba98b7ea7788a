import { createHmac } from 'node:crypto';
import { redactUrl, planReconcile, desiredListenersSchema } from '../../../cli/listeners';
import { loadEngageSettings } from '../../../shared/config/engage';
import { decoders, encodeBase64Json } from '../../../shared/engage/decoder';
import { listenerDeletionSchema, listenerRegistrationSchema, parseListeners } from '../../../shared/engage/listeners';
import { pusherEnvelopeSchema } from '../../../shared/engage/pusherEnvelope';
import { compileRoutes, engageRoutesSchema, findResourceIds, routeNotification } from '../../../shared/engage/routes';
import { checkSignature, checkSignatureRotating, signBody } from '../../../shared/engage/signature';

describe('ms-signature', () => {
  const body = Buffer.from('{"Id":"1"}');
  test('sha256=<hex HMAC-SHA256(secret, body)>', () => {
    expect(signBody('k', body)).toBe(`sha256=${createHmac('sha256', 'k').update(body).digest('hex')}`);
  });
  test('valid / missing / malformed / mismatch; any of several values may match', () => {
    expect(checkSignature('k', body, signBody('k', body))).toBe('valid');
    expect(checkSignature('k', body, signBody('k', body).toUpperCase().replace('SHA256', 'sha256'))).toBe('valid');
    expect(checkSignature('k', body, undefined)).toBe('missing');
    expect(checkSignature('k', body, 'md5=abc')).toBe('malformed');
    expect(checkSignature('k', body, signBody('other', body))).toBe('mismatch');
    expect(checkSignature('k', body, `${signBody('other', body)}, ${signBody('k', body)}`)).toBe('valid');
  });
  test('rotation: the current or the previous secret is valid (and says which); without a previous one only the current', () => {
    const secrets = { current: 'new', previous: 'old' };
    expect(checkSignatureRotating(secrets, body, signBody('new', body))).toEqual({ check: 'valid', previous: false });
    expect(checkSignatureRotating(secrets, body, signBody('old', body))).toEqual({ check: 'valid', previous: true });
    expect(checkSignatureRotating(secrets, body, signBody('other', body))).toEqual({ check: 'mismatch', previous: false });
    expect(checkSignatureRotating(secrets, body, undefined)).toEqual({ check: 'missing', previous: false });
    expect(checkSignatureRotating({ current: 'new' }, body, signBody('old', body))).toEqual({ check: 'mismatch', previous: false });
  });
});

describe('decoders', () => {
  test('none keeps the string; json and base64-json parse; bad input has a reason', () => {
    expect(decoders.none('abc')).toEqual({ ok: true, value: 'abc', structured: false });
    expect(decoders.json('[1]')).toEqual({ ok: true, value: [1], structured: true });
    expect(decoders['base64-json'](encodeBase64Json({ a: 1 }))).toEqual({ ok: true, value: { a: 1 }, structured: true });
    expect(decoders['base64-json']('%%%')).toEqual({ ok: false, reason: 'is not base64' });
    expect(decoders['base64-json'](Buffer.from('{').toString('base64'))).toEqual({ ok: false, reason: 'is not valid JSON' });
  });
});

describe('pusher envelope schema', () => {
  test('accepts the documented sample, refuses missing parts', () => {
    const sample = {
      Id: 'd38861430b2642c59f060a64b7df4402',
      Attempt: 1,
      Properties: { StaticParamA: 'DateTime' },
      Notifications: [{ Action: 'VISITOR', DynamicParamA: 'mlFcsrt0X8AjK3Q' }],
    };
    expect(pusherEnvelopeSchema.safeParse(sample).success).toBe(true);
    expect(pusherEnvelopeSchema.safeParse({ ...sample, Notifications: [] }).success).toBe(false);
    expect(pusherEnvelopeSchema.safeParse({ ...sample, Id: ' ' }).success).toBe(false);
    expect(pusherEnvelopeSchema.safeParse({ ...sample, Notifications: [{ Action: 'X' }] }).success).toBe(false);
  });
});

describe('routes', () => {
  const table = compileRoutes(
    engageRoutesSchema.parse([
      { eventTypes: ['desk', 6], queue: 'room-101', resourceIds: [101, '102'] },
      { eventTypes: ['DESK'], queue: 'desk-all', format: 'raw' },
    ]),
    'engage-unrouted',
  );
  test('event types by name or number; unknown ones refused', () => {
    expect(engageRoutesSchema.safeParse([{ eventTypes: [9], queue: 'q-q' }]).success).toBe(false);
    expect(engageRoutesSchema.safeParse([{ eventTypes: ['DESK'], queue: 'Bad_Name' }]).success).toBe(false);
  });
  test('filtered route: match, no match, unjudged (kept); unrouted Action', () => {
    expect(routeNotification(table, 'DESK', ['101'])).toEqual([
      { queue: 'room-101', format: undefined, reason: 'filter-match' },
      { queue: 'desk-all', format: 'raw', reason: 'route' },
    ]);
    expect(routeNotification(table, 'DESK', ['7']).map((d) => d.queue)).toEqual(['desk-all']);
    expect(routeNotification(table, 'DESKPROGRESSION', undefined)).toEqual([
      { queue: 'room-101', format: undefined, reason: 'filter-unjudged' },
    ]);
    expect(routeNotification(table, 'VISITOR', ['1'])).toEqual([{ queue: 'engage-unrouted', format: undefined, reason: 'unrouted' }]);
  });
  test('default settings route each type to engage-<action>', () => {
    const s = loadEngageSettings({});
    const t = compileRoutes(s.ENGAGE_ROUTES, s.ENGAGE_UNROUTED_QUEUE);
    expect(routeNotification(t, 'MeetingProgression', undefined)[0].queue).toBe('engage-meetingprogression');
    expect(t.queues).toHaveLength(9);
  });
  test('resource ids from every documented payload shape (ID / Id spelling, nested by date)', () => {
    expect(findResourceIds({ '2019-08-28T00:00:00': { ChangedItems: [{ Action: 1, BookingID: 99, ResourceItemID: 96 }] } })).toEqual([
      '96',
    ]);
    expect(findResourceIds([{ BookingId: 1, ResourceItemId: 101 }, { ResourceItemId: 102 }, { ResourceItemId: 101 }])).toEqual([
      '101',
      '102',
    ]);
    expect(findResourceIds('encrypted')).toBeUndefined();
    expect(findResourceIds([{ VisitorID: 1 }])).toBeUndefined();
  });
});

describe('settings', () => {
  test('defaults need no configuration; bad values are named, not echoed', () => {
    const s = loadEngageSettings({});
    expect(s).toMatchObject({
      ENGAGE_SIGNATURE_MODE: 'log',
      ENGAGE_DECODER: 'none',
      ENGAGE_WEBHOOK_MAX_BYTES: 1048576,
      ENGAGE_EVENT_SOURCE: '/eptura/engage',
      ENGAGE_MESSAGE_FORMAT: 'cloudevents',
    });
    expect(s).toMatchObject({ ENGAGE_WEBHOOK_MAX_DEPTH: 64, ENGAGE_WEBHOOK_MAX_ELEMENTS: 100_000 });
    expect(() => loadEngageSettings({ ENGAGE_WEBHOOK_MAX_DEPTH: '5000', ENGAGE_WEBHOOK_MAX_ELEMENTS: 'many' })).toThrow(
      /ENGAGE_WEBHOOK_MAX_DEPTH[\s\S]*ENGAGE_WEBHOOK_MAX_ELEMENTS/,
    );
    expect(() => loadEngageSettings({ ENGAGE_ROUTES: 'not json secret-ish', ENGAGE_SIGNATURE_MODE: 'maybe' })).toThrow(
      /ENGAGE_SIGNATURE_MODE[\s\S]*ENGAGE_ROUTES: must be valid JSON/,
    );
    expect(() => loadEngageSettings({ ENGAGE_ROUTES: 'not json secret-ish' })).not.toThrow(/secret-ish/);
  });
});

describe('listener API schemas', () => {
  const url = 'https://bridge.example.test/hook';
  test('event types by name or number → sorted unique numbers; provider by name', () => {
    expect(
      listenerRegistrationSchema.parse({
        secretkey: 's',
        eventTypes: ['desk', 2, 'VISITOR'],
        notificationUrl: url,
        queueProvider: 'NOTIFICATIONHUB.AZUREQUEUEPROVIDER',
      }),
    ).toEqual({
      secretkey: 's',
      eventTypes: [2, 8],
      notificationUrl: url,
      queueProvider: 3,
    });
  });
  test('resourceIds required for provider 4 only; https only except loopback', () => {
    expect(
      listenerRegistrationSchema.safeParse({ secretkey: 's', eventTypes: [2], notificationUrl: url, queueProvider: 4, resourceIds: [1] })
        .success,
    ).toBe(true);
    expect(listenerRegistrationSchema.safeParse({ secretkey: 's', eventTypes: [2], notificationUrl: url, queueProvider: 4 }).success).toBe(
      false,
    );
    expect(listenerRegistrationSchema.safeParse({ secretkey: 's', eventTypes: [2], notificationUrl: url, resourceIds: [1] }).success).toBe(
      false,
    );
    expect(listenerRegistrationSchema.safeParse({ secretkey: 's', eventTypes: [2], notificationUrl: 'http://example.com/x' }).success).toBe(
      false,
    );
    expect(
      listenerRegistrationSchema.safeParse({ secretkey: 's', eventTypes: [2], notificationUrl: 'http://localhost:7071/x' }).success,
    ).toBe(true);
    expect(listenerRegistrationSchema.safeParse({ secretkey: 's', eventTypes: [2], notificationUrl: url, queueProvider: 1 }).success).toBe(
      false,
    );
    expect(listenerDeletionSchema.parse({ listenerId: '5', eventType: 'DESK', notificationUrl: url })).toEqual({
      listenerId: 5,
      eventType: 2,
      notificationUrl: url,
    });
  });
  test('list responses are read leniently', () => {
    expect(parseListeners([{ ListenerId: 1, EventType: 2, NotificationUrl: url, QueueProvider: 3 }])).toEqual([
      { listenerId: 1, eventType: 2, notificationUrl: url, queueProvider: 3 },
    ]);
    expect(parseListeners({ data: [{ id: 4, eventTypes: [1, 2] }] })).toEqual([
      { listenerId: 4, eventType: 1 },
      { listenerId: 4, eventType: 2 },
    ]);
    expect(parseListeners('nope')).toEqual([]);
  });
});

describe('CLI helpers', () => {
  test('redactUrl hides the function key', () => {
    expect(redactUrl('https://x.test/api/engage/webhook?code=abc123&x=1')).toBe('https://x.test/api/engage/webhook?code=***&x=1');
  });
  test('planReconcile: keep, register missing, remove undesired', () => {
    const url = 'https://x.test/h';
    const desired = desiredListenersSchema.parse({
      listeners: [{ notificationUrl: url, eventTypes: ['DESK', 'MEETING'], queueProvider: 3 }],
    });
    const plan = planReconcile(desired, [
      { listenerId: 1, eventType: 2, notificationUrl: url, queueProvider: 3 },
      { listenerId: 2, eventType: 8, notificationUrl: url, queueProvider: 3 },
      { listenerId: 3, eventType: 2, notificationUrl: url, queueProvider: 3 },
    ]);
    expect(plan.keep.map((l) => l.listenerId)).toEqual([1]);
    expect(plan.register.map((r) => r.eventTypes)).toEqual([[1]]);
    expect(plan.unregister.map((l) => l.listenerId)).toEqual([2, 3]);
  });
});
