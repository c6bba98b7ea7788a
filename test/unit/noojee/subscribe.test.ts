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

  it('ids are <uniqueCallId>:<status>:<seq>, subject the extension, data the entry untouched', () => {
    const r = parseSubscribeResponse(JSON.parse(SEED_SAMPLE));
    const envelopes = callEventEnvelopes(r, 10, '/noojee/call-management', '2026-01-01T00:00:00.000Z');
    expect(envelopes.map((e) => e.id)).toEqual(['1412749517.489:Hungup:10', '1412749510.488:Hungup:10']);
    expect(envelopes[1]).toEqual({
      specversion: '1.0',
      id: '1412749510.488:Hungup:10',
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
    expect(callEventIds(r.events, 3)).toEqual(['A:Ringing:3:400', 'A:Ringing:3:410', 'call-7:Busy:3']);
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
    const ids = callEventIds(parseSubscribeResponse(body).events, 5);
    expect(ids).toEqual(['B:Ringing:5:400:0', 'B:Ringing:5:400:1', 'B:Ringing:5:410']);
    expect(callEventIds(parseSubscribeResponse(body).events, 5)).toEqual(ids);
  });
});
