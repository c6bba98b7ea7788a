/** The Noojee sandbox's HTTP controls and call scripts (what `npm start` and other tests drive). */
import { startNoojeeSandbox, type RunningNoojeeSandbox } from '../../../local/sandbox/noojee/noojeeSandbox';
import { NoojeeClient } from '../../../shared/noojee/client';
import { waitFor } from '../../helpers/queues';

let sandbox: RunningNoojeeSandbox;
let client: NoojeeClient;

beforeEach(async () => {
  sandbox = await startNoojeeSandbox({ apiKey: 'k' });
  client = new NoojeeClient({ baseUrl: sandbox.url, apiKey: 'k', timeoutMarginMs: 1000 });
});
afterEach(() => sandbox.stop());

async function control(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${sandbox.url}/_sandbox/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

it('plays the seed samples, scripted calls and raw events over HTTP, and reports state', async () => {
  expect(await control('POST', 'seed-samples', { call: 1 })).toEqual({ status: 200, json: { seq: 10 } });
  const call = await control('POST', 'calls', { from: '400', to: '410', outcome: 'busy', ringMs: 10 });
  expect(call.json).toEqual({ caller: expect.any(String), callee: expect.any(String) });
  await waitFor(() => sandbox.seq === 13, 'Dialing Out, Busy, Hungup');
  expect(
    (await control('POST', 'events', { events: [{ exten: '420', callData: { status: 'Unlinked', uniqueCallId: 'u.1' } }] })).json,
  ).toEqual({ seq: 14 });
  expect((await control('POST', 'events', { events: [{ exten: '420' }] })).status).toBe(400);
  expect((await control('POST', 'calls', { from: '400' })).status).toBe(400);

  const r = await client.subscribe({ exten: ['400', '420'], lastSequenceNumber: 10, timeOut: 1 });
  expect(r.events.map((e) => `${e.exten}:${e.status}`)).toEqual(['400:Dialing Out', '400:Busy', '400:Hungup', '420:Unlinked']);
  expect(r.seq).toBe(14);
  const state = await control('GET', 'state');
  expect(state.json).toMatchObject({ seq: 14, subscribes: 1, commands: 0, activeCalls: [] });
  expect((await control('GET', 'subscribes')).json).toEqual([
    expect.objectContaining({ exten: ['400', '420'], lastSequenceNumber: 10, timeOut: 1 }),
  ]);
});

it('injects and clears faults over HTTP', async () => {
  await control('POST', 'faults', { fail: 1, status: 500 });
  await expect(client.subscribe({ exten: ['400'], lastSequenceNumber: 0, timeOut: 1 })).rejects.toThrow('answered HTTP 500');
  await control('POST', 'faults', { drop: 5 });
  await control('DELETE', 'faults');
  await expect(client.subscribe({ exten: ['400'], lastSequenceNumber: 0, timeOut: 1 })).resolves.toMatchObject({ Code: 0 });
});

it('a ringing call answered by command connects, then hangs up on hangup; commands are listed', async () => {
  const legs = sandbox.scriptCall({ from: '400', to: '410', answerBy: 'command', talkMs: 60_000 });
  await client.answer({ uniqueId: legs.callee, exten: 'SIP/410' });
  await client.hangup('410');
  const r = await client.subscribe({ exten: ['400', '410'], lastSequenceNumber: 8, timeOut: 1 });
  expect(r.events.map((e) => `${e.exten}:${e.status}`)).toEqual([
    '400:Dialing Out',
    '400:Connected',
    '400:Hungup',
    '410:Ringing',
    '410:Connected',
    '410:Hungup',
  ]);
  expect(r.events.find((e) => e.status === 'Ringing')!.entry.CallData).toMatchObject({
    canAnswer: true,
    inbound: true,
    callerId: '400',
    uniqueCallId: legs.callee,
  });
  expect((await control('GET', 'commands')).json.map((c: { method: string }) => c.method)).toEqual(['answer', 'hangup']);
});

it('generates call traffic when asked', async () => {
  const busy = await startNoojeeSandbox({ traffic: { intervalMs: 20, extensions: ['400', '410'] } });
  try {
    await waitFor(() => busy.seq > 10, 'generated calls');
  } finally {
    await busy.stop();
  }
});
