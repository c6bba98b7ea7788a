/** The Noojee client against the sandbox (real HTTP, no storage). */
import { NoojeeApiError, NoojeeClient, NoojeeUnavailableError } from '../../../shared/noojee/client';
import { startNoojeeSandbox, type RunningNoojeeSandbox } from '../../../local/sandbox/noojee/noojeeSandbox';
import { pollCallEvents } from '../../../shared/noojee/poller';
import { gapMs, startScriptedServer, type ScriptedServer } from '../../unit/http/scriptedServer';

let sandbox: RunningNoojeeSandbox;
let client: NoojeeClient;
const warnings: string[] = [];

beforeAll(async () => {
  sandbox = await startNoojeeSandbox({ apiKey: 'key-under-test' });
  client = new NoojeeClient({
    baseUrl: sandbox.url,
    apiKey: sandbox.apiKey,
    timeoutMarginMs: 1000,
    onWarning: (m, c, msg) => warnings.push(`${m} ${c} ${msg}`),
  });
});
afterAll(() => sandbox.stop());
afterEach(() => sandbox.clearFaults());

describe('subscribe', () => {
  it('lastSequenceNumber 0 answers at once with the current state and seq', async () => {
    const r = await client.subscribe({ exten: ['400', '410'], lastSequenceNumber: 0, timeOut: 5 });
    expect(r).toMatchObject({ Code: 0, seq: sandbox.seq, events: [] });
  });

  it('long-polls: answers as soon as an event occurs, with the seq to pass back', async () => {
    const from = sandbox.seq;
    const poll = client.subscribe({ exten: ['400', '410'], lastSequenceNumber: from, timeOut: 10 });
    await sandbox.nextSubscribe((s) => s.lastSequenceNumber === from);
    const seq = sandbox.playSeedSample(1);
    const r = await poll;
    expect(r.seq).toBe(seq);
    expect(r.events.map((e) => `${e.exten}:${e.status}`).sort()).toEqual(['400:Hungup', '410:Hungup']);
    expect(sandbox.subscribes.at(-1)).toMatchObject({ exten: ['400', '410'], lastSequenceNumber: from, timeOut: 10 });
  });

  it('answers after timeOut with no events and the current seq', async () => {
    const r = await client.subscribe({ exten: ['499'], lastSequenceNumber: sandbox.seq, timeOut: 1 });
    expect(r).toMatchObject({ Code: 0, seq: sandbox.seq, events: [] });
  });

  it('only reports the requested extensions', async () => {
    const from = sandbox.seq;
    sandbox.emit([
      { exten: '777', callData: { status: 'Ringing', uniqueCallId: 'x.1' } },
      { exten: '400', callData: { status: 'Ringing', uniqueCallId: 'x.2' } },
    ]);
    const r = await client.subscribe({ exten: ['400'], lastSequenceNumber: from, timeOut: 1 });
    expect(r.events.map((e) => e.uniqueCallId)).toEqual(['x.2']);
    expect(r.seq).toBe(sandbox.seq);
  });

  it('a negative Code is a NoojeeApiError carrying the Message; the key never appears in errors', async () => {
    const bad = new NoojeeClient({ baseUrl: sandbox.url, apiKey: 'wrong-key-value', timeoutMarginMs: 1000 });
    const err = await bad.subscribe({ exten: ['400'], lastSequenceNumber: 0, timeOut: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoojeeApiError);
    expect(err).toMatchObject({ noojeeCode: -1, noojeeMessage: 'Invalid apiKey' });
    expect(JSON.stringify({ m: (err as Error).message, s: (err as Error).stack })).not.toContain('wrong-key-value');
  });

  it('an HTTP 5xx is a transient NoojeeUnavailableError', async () => {
    sandbox.setFaults({ fail: 1, status: 502 });
    const err = await client.subscribe({ exten: ['400'], lastSequenceNumber: 0, timeOut: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoojeeUnavailableError);
    expect(err).toMatchObject({ status: 502, transient: true });
    expect((err as Error).message).toBe('Noojee subscribe answered HTTP 502');
  });

  it('a connection dropped mid-poll is a transient NoojeeUnavailableError', async () => {
    sandbox.setFaults({ drop: 1, dropAfterMs: 50 });
    const err = await client.subscribe({ exten: ['400'], lastSequenceNumber: sandbox.seq, timeOut: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoojeeUnavailableError);
    expect(err).toMatchObject({ status: undefined, transient: true });
  });

  it('gives up after timeOut plus the margin when the server stays silent', async () => {
    sandbox.setFaults({ slowMs: 5000 });
    const started = Date.now();
    const err = await client.subscribe({ exten: ['400'], lastSequenceNumber: 0, timeOut: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoojeeUnavailableError);
    expect((err as Error).message).toMatch(/no answer within 2000 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });
});

describe('commands', () => {
  it('answer connects a ringing call and sends uniqueId, exten, answerString and apiKey in the form body', async () => {
    const legs = sandbox.scriptCall({ from: '400', to: '410', answerBy: 'command', talkMs: 60_000 });
    const r = await client.answer({ uniqueId: legs.callee, exten: 'SIP/410', answerString: 'Call-info:answer-after=0' });
    expect(r).toMatchObject({ Code: 0, Message: 'Call answered' });
    expect(sandbox.commands.at(-1)).toMatchObject({
      method: 'answer',
      params: { uniqueId: legs.callee, exten: 'SIP/410', answerString: 'Call-info:answer-after=0' },
    });
    expect(sandbox.commands.at(-1)!.params).not.toHaveProperty('apiKey');
    const h = await client.hangup(legs.callee);
    expect(h).toMatchObject({ Code: 0, Message: 'Channel Hungup' });
  });

  it('answer of an unknown call is refused with the server message', async () => {
    await expect(client.answer({ uniqueId: 'nope.1', exten: 'SIP/410' })).rejects.toThrow(
      'Noojee answer failed with Code -1: No ringing call with uniqueId nope.1',
    );
  });

  it('dial returns the SessionID and sends monitored=yes', async () => {
    const r = await client.dial({ number: '0412345678', extenOrUniqueId: 'SIP/400', monitored: true, autoAnswer: true });
    expect(r.SessionID).toMatch(/[0-9a-f-]{36}/);
    expect(sandbox.commands.at(-1)!.params).toEqual({
      number: '0412345678',
      extenOrUniqueId: 'SIP/400',
      monitored: 'yes',
      autoAnswer: 'true',
    });
  });
});

describe('Retry-After and unreadable answers, through the poller (a small local server: the sandbox sends neither)', () => {
  let upstream: ScriptedServer;
  beforeAll(async () => {
    // Later polls: nothing new, answered after a while as Noojee does.
    upstream = await startScriptedServer(() => ({ status: 200, body: JSON.stringify({ Code: 0, seq: 7 }), delayMs: 300 }));
  });
  afterAll(() => upstream.stop());
  beforeEach(() => {
    upstream.requests.length = 0;
  });

  const event = JSON.stringify({
    Code: 0,
    seq: 7,
    Data: { '400': [{ CallData: { uniqueCallId: 'R.1', status: 'Ringing' }, CallID: 1, Code: 0 }] },
  });

  async function poll(budgetMs: number, retryDelayMs = 100) {
    const sent: string[] = [];
    const warnings: string[] = [];
    const result = await pollCallEvents(
      {
        client: new NoojeeClient({ baseUrl: upstream.url, apiKey: 'poll-key-value', timeoutMarginMs: 2000 }),
        writer: { sendAll: async (messages) => void sent.push(...messages.map((m) => m.key ?? '')) },
        cursor: { load: async () => ({ seq: 5 }), save: async (_held, seq) => ({ seq, etag: `"${seq}"` }) },
        log: { info: () => undefined, warn: (m) => warnings.push(m) },
      },
      { extensions: ['400'], queue: 'q', source: 'noojee', budgetMs, pollTimeoutSeconds: 1, retryDelayMs, minPollIntervalMs: 0 },
    );
    return { result, sent, warnings };
  }

  it('a 503 with Retry-After: 2 is polled again no sooner than 2 s later', async () => {
    upstream.script({ status: 503, headers: { 'retry-after': '2' } }, { status: 200, body: event });
    const { result, sent, warnings } = await poll(5000);
    expect(result).toMatchObject({ events: 1, failures: 1, seq: 7, stoppedBy: 'budget' });
    expect(sent).toEqual(['R.1:Ringing:400:f1909d542903']);
    expect(warnings[0]).toMatch(/polling again in 2000 ms: Noojee subscribe answered HTTP 503/);
    expect(gapMs(upstream.requests, 0, 1)).toBeGreaterThanOrEqual(1950);
  });

  it('a 429 with an HTTP-date Retry-After waits until that date', async () => {
    // An HTTP-date has whole seconds: 4 s ahead leaves a wait of more than 3 s, less the time to answer.
    upstream.script({ status: 429, headers: { 'retry-after': new Date(Date.now() + 4000).toUTCString() } }, { status: 200, body: event });
    const { result, sent } = await poll(7000);
    expect(result).toMatchObject({ events: 1, failures: 1, stoppedBy: 'budget' });
    expect(sent).toEqual(['R.1:Ringing:400:f1909d542903']);
    expect(gapMs(upstream.requests, 0, 1)).toBeGreaterThanOrEqual(2500);
  });

  it('a Retry-After beyond the run budget ends the run at once, the error kept for the next run', async () => {
    upstream.script({ status: 503, headers: { 'retry-after': '30' } });
    const { result, warnings } = await poll(3000);
    expect(result).toMatchObject({ events: 0, polls: 0, failures: 1, stoppedBy: 'budget' });
    expect(result.error).toMatchObject({ status: 503, retryAfterMs: 30_000 });
    expect(upstream.requests).toHaveLength(1);
    expect(warnings.join('\n')).toMatch(/budget ends before the next attempt/);
  });

  it('issue 20.4: a 200 with an unreadable body is retried within the run with the 5xx back-off, and counted', async () => {
    upstream.script(
      { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>maintenance</html>' },
      { status: 200, body: '{"Status":"ok"}' },
      { status: 200, body: event },
    );
    const { result, sent, warnings } = await poll(5000, 300);
    expect(result).toMatchObject({ events: 1, failures: 2, unreadableAnswers: 2, seq: 7, stoppedBy: 'budget' });
    expect(sent).toEqual(['R.1:Ringing:400:f1909d542903']);
    expect(warnings.slice(0, 2)).toEqual([
      expect.stringMatching(/polling again in \d+ ms: Noojee subscribe answered a non-JSON body \(HTTP 200\)/),
      expect.stringMatching(/polling again in \d+ ms: Noojee subscribe answered without a numeric Code/),
    ]);
    // The back-off of a 5xx: retryDelayMs ± 20 %, then doubled.
    expect(gapMs(upstream.requests, 0, 1)).toBeGreaterThanOrEqual(0.8 * 300 - 5);
    expect(gapMs(upstream.requests, 1, 2)).toBeGreaterThanOrEqual(0.8 * 600 - 5);
  });

  it('the client reports an unreadable 200 as a transient error', async () => {
    upstream.script({ status: 200, body: 'not json' });
    const client = new NoojeeClient({ baseUrl: upstream.url, apiKey: 'poll-key-value', timeoutMarginMs: 2000 });
    const err = await client.subscribe({ exten: ['400'], lastSequenceNumber: 0, timeOut: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoojeeUnavailableError);
    expect(err).toMatchObject({ status: 200, code: 'INVALID_RESPONSE', transient: true });
  });
});
