/**
 * Fuzz: ≥ 2,000 generated webhook bodies (valid, near-valid and garbage pusher envelopes, and the
 * hostile families: deep nesting, huge arrays, duplicate keys, `__proto__` keys; see test/fuzz/bodies.ts)
 * against the real handler + Azurite. Never a 5xx; every enqueued message matches a notification of an
 * accepted request (queue by Action, envelope id `<Id>:<index>`, data = the decoded payload), and
 * nothing from a rejected request is enqueued. The same families go through the local host over HTTP
 * in test/integration/host/hostFuzz.test.ts.
 */
import fc from 'fast-check';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { defaultQueueOf, expectedMessages, foundKey, fuzzBodies, type BodyFamily, type OracleOptions } from '../../fuzz/bodies';
import { DEFAULT_DEADLETTER_QUEUE } from '../../../shared/deadletter';
import { readMessageBody } from '../../../shared/queue/reader';
import { getStorage } from '../../../shared/storage';
import { drainQueue } from '../../helpers/queues';
import { configureWebhook } from './env';
import { callWebhook } from './serveWebhook';

let azurite: RunningAzurite;
const MAX_ELEMENTS = 5000;
const oracle: OracleOptions = {
  queueOf: defaultQueueOf('engage'),
  deadLetterQueue: DEFAULT_DEADLETTER_QUEUE,
  limits: { maxDepth: 64, maxElements: MAX_ELEMENTS },
};
beforeAll(async () => {
  azurite = await startAzurite();
  // A lower element limit than the default keeps the huge-array family cheap here (the host fuzz runs the defaults).
  configureWebhook(azurite.connectionString, { ENGAGE_DECODER: 'base64-json', ENGAGE_WEBHOOK_MAX_ELEMENTS: String(MAX_ELEMENTS) });
});
afterAll(async () => {
  await azurite?.stop();
});

test('2,000 generated bodies: no 5xx, only valid notifications enqueued, each exactly as sent', async () => {
  const expected = new Map<string, number>();
  const statuses = new Map<string, number>();
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fuzzBodies({ maxElements: MAX_ELEMENTS, maxNesting: 20_000 }), async (b) => {
      runs++;
      const r = await callWebhook({ body: b.text, headers: { 'content-type': b.contentType } });
      const key = `${b.family} ${r.status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      expect([200, 400, 413, 415]).toContain(r.status);
      if (r.status === 200) for (const k of expectedMessages(b.text, oracle)) expected.set(k, (expected.get(k) ?? 0) + 1);
    }),
    { numRuns: 2000 },
  );
  expect(runs).toBeGreaterThanOrEqual(2000);
  const count = (family: BodyFamily, status: number) => statuses.get(`${family} ${status}`) ?? 0;
  expect(count('valid', 200)).toBeGreaterThan(300);
  expect(count('nearValid', 400)).toBeGreaterThan(100); // the rest: 200 with the bad notification dead-lettered
  // Deep nesting and huge arrays are both refused and (within the limits) taken exactly as sent;
  // duplicate and __proto__ keys are taken with JSON.parse's meaning (checked by the oracle below).
  for (const family of ['deepNesting', 'hugeArray'] as const)
    expect([family, count(family, 200) > 0, count(family, 400) > 0]).toEqual([family, true, true]);
  for (const family of ['duplicateKeys', 'protoKeys'] as const) expect([family, count(family, 200) > 0]).toEqual([family, true]);

  const storage = await getStorage();
  const svc = QueueServiceClient.fromConnectionString(azurite.connectionString);
  const actual = new Map<string, number>();
  for await (const q of svc.listQueues()) {
    for (const m of await drainQueue(azurite.connectionString, q.name)) {
      const body = (await readMessageBody(m.body, storage)) as { id: string; data: unknown; specversion: string };
      expect(body.specversion).toBe('1.0');
      const k = foundKey(q.name, oracle.deadLetterQueue, body);
      actual.set(k, (actual.get(k) ?? 0) + 1);
    }
  }
  expect(actual).toEqual(expected);
}, 120_000);
