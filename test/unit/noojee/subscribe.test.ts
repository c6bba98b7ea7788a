import { callEventEnvelopes, callEventIds, callEventType, parseSubscribeResponse } from '../../../shared/noojee/subscribe';

/** The seed's sample response (seed 003), verbatim. */
const SEED_SAMPLE = `{"Data":{ "410": [{"CallData":{ "canAnswer":false, "callerId":"400", "uniqueCallId":"1412749510.488", "callStartTime":"2014/10/08 17:25:18", "isQueueCall":false, "isClickToDialCall":false, "inbound":true, "status":"Hungup"},"CallID":2,"Code":0}], "400": [{"CallData":{ "canAnswer":false, "callerId":"410", "uniqueCallId":"1412749517.489", "callStartTime":"2014/10/08 17:25:18", "isQueueCall":false, "isClickToDialCall":false, "inbound":false, "status":"Hungup"},"CallID":1,"Code":0}]},"seq":10,"Code":0}`;

describe('parseSubscribeResponse', () => {
  it('reads the seed sample: top-level seq and one event per CallData', () => {
    const r = parseSubscribeResponse(JSON.parse(SEED_SAMPLE));
    expect(r.seq).toBe(10);
    expect(r.Code).toBe(0);
    expect(r.events.map((e) => [e.exten, e.uniqueCallId, e.status])).toEqual([
      ['400', '1412749517.489', 'Hungup'],
      ['410', '1412749510.488', 'Hungup'],
    ]);
    expect(r.events[0].entry).toEqual(JSON.parse(SEED_SAMPLE).Data['400'][0]);
  });

  it.each([
    ['empty Data', { Data: {}, seq: 12, Code: 0 }],
    ['missing Data', { seq: 12, Code: 0 }],
    ['null Data', { Data: null, seq: 12, Code: 0 }],
    ['empty-string Data', { Data: '', seq: 12, Code: 0 }],
    ['array Data', { Data: [], seq: 12, Code: 0 }],
  ])('tolerates %s on a timeout', (_name, body) => {
    const r = parseSubscribeResponse(body);
    expect(r.events).toEqual([]);
    expect(r.seq).toBe(12);
  });

  it('keeps unknown statuses and extra CallData fields, skips entries without CallData', () => {
    const r = parseSubscribeResponse({
      Data: {
        '400': [
          { CallData: { uniqueCallId: 5.1, status: 'Parked Somewhere', otherPartyCallerId: '0412' }, CallID: 1, Code: 0 },
          { nope: true },
          'junk',
        ],
      },
      seq: '13',
      Code: '0',
    });
    expect(r.seq).toBe(13);
    expect(r.events).toHaveLength(1);
    expect(r.events[0].uniqueCallId).toBe('5.1');
    expect(r.events[0].status).toBe('Parked Somewhere');
    expect(r.events[0].entry.CallData.otherPartyCallerId).toBe('0412');
    expect(r.unreadable.map((u) => [u.exten, u.index, u.entry])).toEqual([
      ['400', 1, { nope: true }],
      ['400', 2, 'junk'],
    ]);
  });

  it('rejects a body without Code', () => {
    expect(() => parseSubscribeResponse({ Data: {} })).toThrow();
    expect(() => parseSubscribeResponse('<html>')).toThrow();
  });
});

describe('call event envelopes', () => {
  it.each([
    ['Ringing', 'com.noojee.call.ringing'],
    ['No Answer', 'com.noojee.call.no-answer'],
    ['Dialing Out', 'com.noojee.call.dialing-out'],
    ['  Hungup ', 'com.noojee.call.hungup'],
    [undefined, 'com.noojee.call.unknown'],
  ])('type of status %p is %s', (status, type) => {
    expect(callEventType(status)).toBe(type);
  });

  it('ids are <uniqueCallId>:<status>:<exten>:<digest>, subject the extension, data the entry untouched', () => {
    const r = parseSubscribeResponse(JSON.parse(SEED_SAMPLE));
    const envelopes = callEventEnvelopes(r, 10, '/noojee/call-management', '2026-01-01T00:00:00.000Z');
    expect(envelopes.map((e) => e.id)).toEqual(['1412749517.489:Hungup:400:257fb89e7bac', '1412749510.488:Hungup:410:6aef02b028cf']);
    expect(envelopes[1]).toEqual({
      specversion: '1.0',
      id: '1412749510.488:Hungup:410:6aef02b028cf',
      source: '/noojee/call-management',
      type: 'com.noojee.call.hungup',
      time: '2026-01-01T00:00:00.000Z',
      subject: '410',
      datacontenttype: 'application/json',
      data: JSON.parse(SEED_SAMPLE).Data['410'][0],
    });
    // Deterministic: the same response read again gives the same ids.
    expect(callEventEnvelopes(parseSubscribeResponse(JSON.parse(SEED_SAMPLE)), 10, 's').map((e) => e.id)).toEqual(
      envelopes.map((e) => e.id),
    );
  });

  it('disambiguates the same call and status on two extensions, and a missing uniqueCallId', () => {
    const r = parseSubscribeResponse({
      Data: {
        '400': [{ CallData: { uniqueCallId: 'A', status: 'Ringing' }, CallID: 1 }],
        '410': [
          { CallData: { uniqueCallId: 'A', status: 'Ringing' }, CallID: 2 },
          { CallData: { status: 'Busy' }, CallID: 7 },
        ],
      },
      seq: 3,
      Code: 0,
    });
    expect(callEventIds(r.events, 3, 'seq')).toEqual(['A:Ringing:3:400', 'A:Ringing:3:410', 'call-7:Busy:3']);
    expect(callEventIds(r.events, 3)).toEqual(['A:Ringing:400:f215f0cf63fb', 'A:Ringing:410:7ad029030c0b', 'call-7:Busy:410:959cc5927f23']);
  });

  it('an event read again in another answer, under another seq, keeps its id (issue 26: overlapping pollers, a lost answer)', () => {
    const entry = {
      CallData: { uniqueCallId: 'C.9', status: 'Connected', callerId: '400', callStartTime: '2026/12/05 08:00:01' },
      CallID: 4,
      Code: 0,
    };
    const first = parseSubscribeResponse({ Data: { '410': [entry] }, seq: 40, Code: 0 });
    // The second answer carries the same event with another before it, and a later seq.
    const other = { CallData: { uniqueCallId: 'C.8', status: 'Hungup' }, CallID: 3, Code: 0 };
    const second = parseSubscribeResponse({ Data: { '410': [other, structuredClone(entry)] }, seq: 47, Code: 0 });
    const [a] = callEventIds(first.events, 40);
    const [, b] = callEventIds(second.events, 47);
    expect(a).toBe(b);
    expect(a).toMatch(/^C\.9:Connected:410:[0-9a-f]{12}$/);
    // The previous scheme gave the two reads different ids; it stays available as NOOJEE_EVENT_ID=seq.
    expect(callEventIds(first.events, 40, 'seq')[0]).not.toBe(callEventIds(second.events, 47, 'seq')[1]);
    // A real change of the event (another field) is another id.
    const changed = parseSubscribeResponse({
      Data: { '410': [{ ...entry, CallData: { ...entry.CallData, callerId: '401' } }] },
      seq: 48,
      Code: 0,
    });
    expect(callEventIds(changed.events, 48)[0]).not.toBe(a);
  });

  it('the same call and status twice on one extension get distinct, deterministic ids (issue 17.6)', () => {
    const body = {
      Data: {
        '400': [{ CallData: { uniqueCallId: 'B', status: 'Ringing' } }, { CallData: { uniqueCallId: 'B', status: 'Ringing' } }],
        '410': [{ CallData: { uniqueCallId: 'B', status: 'Ringing' } }],
      },
      seq: 5,
      Code: 0,
    };
    const ids = callEventIds(parseSubscribeResponse(body).events, 5, 'seq');
    expect(ids).toEqual(['B:Ringing:5:400:0', 'B:Ringing:5:400:1', 'B:Ringing:5:410']);
    expect(callEventIds(parseSubscribeResponse(body).events, 5, 'seq')).toEqual(ids);
    const byContent = callEventIds(parseSubscribeResponse(body).events, 5);
    expect(byContent).toEqual(['B:Ringing:400:2bdcc733d25f:0', 'B:Ringing:400:2bdcc733d25f:1', 'B:Ringing:410:2bdcc733d25f']);
  });
});
