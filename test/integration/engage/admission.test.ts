/**
 * Admission control against a real Azurite: concurrent big envelopes over the in-flight budget
 * (ENGAGE_WEBHOOK_MAX_IN_FLIGHT_MESSAGES) are answered 503 + Retry-After before their first write, so no
 * envelope is half-written: each one's messages in the queue are all of them (200) or none (503).
 */
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { encodeBase64Json } from '../../../shared/engage/decoder';
import { drainQueue } from '../../helpers/queues';
import { configureWebhook } from './env';
import { callWebhook } from './serveWebhook';

let azurite: RunningAzurite;
const saved = { ...process.env };
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
  process.env = saved;
});

const ENVELOPES = 6;
const NOTIFICATIONS = 300;
const desk = (i: number) =>
  encodeBase64Json([{ Date: '2026-11-24T00:00:00', BookingID: i, ResourceItemID: 101, Action: 1, UntilFurtherNotice: false }]);
const envelope = (id: string, n: number) =>
  JSON.stringify({ Id: id, Attempt: 1, Notifications: Array.from({ length: n }, (_, i) => ({ Action: 'DESK', DynamicParamA: desk(i) })) });

test('concurrent big envelopes over the budget: 503 before any write, none half-written; small ones pass', async () => {
  // A deadline far beyond the writes' time here: every 503 comes from admission control, not from storage.
  configureWebhook(azurite.connectionString, {
    ENGAGE_DECODER: 'base64-json',
    ENGAGE_WEBHOOK_MAX_IN_FLIGHT_MESSAGES: String(NOTIFICATIONS + 100),
    ENGAGE_STORAGE_DEADLINE_MS: '60000',
  });
  const ids = Array.from({ length: ENVELOPES }, (_, i) => `big-${i}`);
  const answers = await Promise.all(ids.map((id) => callWebhook({ body: envelope(id, NOTIFICATIONS) })));
  const statuses = answers.map((a) => a.status);
  expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
  expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
  expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(1);

  const landed = new Map<string, number>();
  for (const m of await drainQueue(azurite.connectionString, 'engage-desk')) {
    const envelopeId = (m.body as { id: string }).id.split(':')[0];
    landed.set(envelopeId, (landed.get(envelopeId) ?? 0) + 1);
  }
  expect(ids.map((id, i) => [id, statuses[i], landed.get(id) ?? 0])).toEqual(
    ids.map((id, i) => [id, statuses[i], statuses[i] === 200 ? NOTIFICATIONS : 0]),
  );

  // Once nothing is in flight, a normal push (and the retried big one) is admitted.
  expect((await callWebhook({ body: envelope('small', 1) })).status).toBe(200);
  expect((await callWebhook({ body: envelope(ids[statuses.indexOf(503)], NOTIFICATIONS) })).status).toBe(200);
});

test('a 503 from admission control says why in the log', async () => {
  configureWebhook(azurite.connectionString, {
    ENGAGE_DECODER: 'base64-json',
    ENGAGE_WEBHOOK_MAX_IN_FLIGHT_MESSAGES: '10',
    ENGAGE_STORAGE_DEADLINE_MS: '60000',
  });
  const logs: string[] = [];
  const [first, second] = await Promise.all([
    callWebhook({ body: envelope('a', 50) }, logs),
    callWebhook({ body: envelope('b', 50) }, logs),
  ]);
  expect([first.status, second.status].sort()).toEqual([200, 503]);
  expect(logs.join('\n')).toMatch(/refused before any write \(50 in flight, ENGAGE_WEBHOOK_MAX_IN_FLIGHT_MESSAGES=10\)/);
  await drainQueue(azurite.connectionString, 'engage-desk');
});
