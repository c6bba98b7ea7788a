/**
 * Issue 17.2-17.4 against a real Azurite: claim-check blobs are collision-free and written once,
 * consumers load only the bridge's own claim checks, and every message has an explicit TTL
 * (poison and dead-letter messages never expire).
 */
import { QueueServiceClient } from '@azure/storage-queue';
import { z } from 'zod';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { cloudEvent } from '../../../shared/envelope';
import { readEvent } from '../../../shared/consumer/process';
import type { AnyConsumerSpec } from '../../../shared/consumer/define';
import { replayPoison } from '../../../shared/poison/queues';
import { QueueWriter, writerOptions } from '../../../shared/queue/writer';
import { getStorage, type StorageClients } from '../../../shared/storage';
import { drainQueue } from '../../helpers/queues';

let azurite: RunningAzurite;
let storage: StorageClients;
let writer: QueueWriter;
const saved = { ...process.env };
const big = (tag: string) => ({ tag, filler: 'x'.repeat(70 * 1024) });

beforeAll(async () => {
  azurite = await startAzurite();
  process.env.AzureWebJobsStorage = azurite.connectionString;
  storage = await getStorage();
  writer = new QueueWriter(storage, { claimCheckContainer: 'claim-checks' });
}, 60_000);
afterAll(async () => {
  process.env = saved;
  await azurite?.stop();
});

const rawSpec: AnyConsumerSpec = { schemas: { raw: z.unknown() }, handler: async () => undefined, format: 'raw', rawType: 'raw' };
const eventSpec: AnyConsumerSpec = { schemas: { 't.big': z.object({ tag: z.string() }).loose() }, handler: async () => undefined };
const info = { messageId: 'm', dequeueCount: 1 };

/** What a consumer of the queue reads, in order. */
async function consumed(queue: string, spec: AnyConsumerSpec): Promise<unknown[]> {
  const messages = await drainQueue(azurite.connectionString, queue);
  return Promise.all(messages.map(async (m) => (await readEvent(spec, m.body, info))?.data));
}

describe('claim-check blob names and write-once (17.2)', () => {
  test('keys that sanitise alike (evt:X, evt_X) get their own blobs', async () => {
    await writer.sendAll([
      { queue: 'cc-collide', body: cloudEvent({ id: 'evt:X', source: 's', type: 't.big', data: big('colon') }), key: 'evt:X' },
      { queue: 'cc-collide', body: cloudEvent({ id: 'evt_X', source: 's', type: 't.big', data: big('underscore') }), key: 'evt_X' },
    ]);
    const tags = (await consumed('cc-collide', eventSpec)).map((d) => (d as { tag: string }).tag);
    expect(tags.sort()).toEqual(['colon', 'underscore']);
  });

  test('a retry of the same message reuses its blob; the same key with other content never overwrites it', async () => {
    const first = cloudEvent({ id: 'retry:0', source: 's', type: 't.big', data: big('first'), time: '2026-01-01T00:00:00Z' });
    await writer.send({ queue: 'cc-retry', body: first, key: first.id });
    await writer.send({ queue: 'cc-retry', body: first, key: first.id }); // same content: 409 is "already written"
    const retried = { ...first, time: '2026-01-01T00:05:00Z', data: big('second') };
    await writer.send({ queue: 'cc-retry', body: retried, key: first.id });
    const tags = (await consumed('cc-retry', eventSpec)).map((d) => (d as { tag: string }).tag);
    expect(tags).toEqual(['first', 'first', 'second']);
    const blobs: string[] = [];
    for await (const b of storage.blobs.getContainerClient('claim-checks').listBlobsFlat({ prefix: 'cc-retry/' })) blobs.push(b.name);
    expect(blobs).toHaveLength(2);
  });

  test('a blob already at the name (not written by this message) is left untouched', async () => {
    const body = cloudEvent({ id: 'taken', source: 's', type: 't.big', data: big('mine') });
    await writer.send({ queue: 'cc-taken-probe', body, key: 'taken' });
    const [probe] = await drainQueue(azurite.connectionString, 'cc-taken-probe');
    const name = (probe.body as { claimcheck: string }).claimcheck.slice('claim-checks/'.length).replace('cc-taken-probe/', 'cc-taken/');
    const squatter = storage.blobs.getContainerClient('claim-checks').getBlockBlobClient(name);
    await squatter.upload('{"someone":"else"}', 18);
    await writer.send({ queue: 'cc-taken', body, key: 'taken' });
    expect((await squatter.downloadToBuffer()).toString()).toBe('{"someone":"else"}');
    expect(((await consumed('cc-taken', eventSpec))[0] as { tag: string }).tag).toBe('mine');
  });
});

describe('consumers load only the bridge’s own claim checks (17.3)', () => {
  beforeAll(async () => {
    const checkpoints = storage.blobs.getContainerClient('checkpoints');
    await checkpoints.createIfNotExists();
    await checkpoints.getBlockBlobClient('noojee/cursor.json').upload('{"seq":42}', 10);
    const claims = storage.blobs.getContainerClient('claim-checks');
    await claims.createIfNotExists();
    await claims.getBlockBlobClient('planted/unmarked.json').upload('{"planted":true}', 16);
  });

  test.each([
    [
      'a raw payload pointing at a state blob',
      { claimcheck: 'checkpoints/noojee/cursor.json' },
      /not a claim-check pointer of engage-bridge/,
    ],
    [
      'a marked pointer outside the claim-check container',
      { claimcheck: 'checkpoints/noojee/cursor.json', claimcheckby: 'engage-bridge' },
      /outside the claim-check container "claim-checks"/,
    ],
    [
      'a path escaping the container',
      { claimcheck: 'claim-checks/../checkpoints/noojee/cursor.json', claimcheckby: 'engage-bridge' },
      /not a claim-check pointer/,
    ],
    [
      'a blob in the container the bridge did not write',
      { claimcheck: 'claim-checks/planted/unmarked.json', claimcheckby: 'engage-bridge' },
      /not written by engage-bridge/,
    ],
    ['a missing blob', { claimcheck: 'claim-checks/nope/missing.json', claimcheckby: 'engage-bridge' }, /does not exist/],
  ])('%s is an invalid message, never loaded', async (_name, body, reason) => {
    await expect(readEvent(rawSpec, body, info)).rejects.toMatchObject({
      name: 'InvalidMessageError',
      message: expect.stringMatching(reason),
    });
  });

  test('an upstream payload that looks like a pointer is claim-checked, so it arrives unchanged', async () => {
    const payload = { claimcheck: 'checkpoints/noojee/cursor.json', other: 1 };
    await writer.send({ queue: 'cc-lookalike', body: payload, key: 'lookalike' });
    const [msg] = await drainQueue(azurite.connectionString, 'cc-lookalike');
    expect(msg.body).toMatchObject({ claimcheck: expect.stringMatching(/^claim-checks\/cc-lookalike\//), claimcheckby: 'engage-bridge' });
    await writer.send({ queue: 'cc-lookalike', body: payload, key: 'lookalike' });
    expect(await consumed('cc-lookalike', rawSpec)).toEqual([payload]);
  });
});

describe('explicit time-to-live (17.4)', () => {
  const ttl = async (queue: string) => {
    const m = (await QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(queue).peekMessages())
      .peekedMessageItems[0];
    return { seconds: Math.round((m.expiresOn.getTime() - m.insertedOn.getTime()) / 1000), year: m.expiresOn.getUTCFullYear() };
  };

  test('main queues get the setting; poison and dead-letter queues never expire', async () => {
    const w = new QueueWriter(
      storage,
      writerOptions({ CLAIM_CHECK_CONTAINER: 'claim-checks', QUEUE_MESSAGE_TTL_SECONDS: 3600, DEADLETTER_QUEUE: 'ttl-deadletter' }),
    );
    await w.sendAll([
      { queue: 'ttl-main', body: { a: 1 } },
      { queue: 'ttl-main-poison', body: { a: 2 } },
      { queue: 'ttl-deadletter', body: { a: 3 } },
    ]);
    expect((await ttl('ttl-main')).seconds).toBe(3600);
    expect((await ttl('ttl-main-poison')).year).toBe(9999);
    expect((await ttl('ttl-deadletter')).year).toBe(9999);
  });

  test('without options the writer still sends an explicit 7-day TTL, and -poison never expires', async () => {
    await writer.sendAll([
      { queue: 'ttl-default', body: { a: 1 } },
      { queue: 'ttl-default-poison', body: { a: 1 } },
    ]);
    expect((await ttl('ttl-default')).seconds).toBe(7 * 24 * 3600);
    expect((await ttl('ttl-default-poison')).year).toBe(9999);
  });

  test('a replayed poison message gets the main-queue TTL', async () => {
    await writer.send({ queue: 'ttl-replay-poison', body: { a: 1 } });
    await replayPoison(QueueServiceClient.fromConnectionString(azurite.connectionString), { queue: 'ttl-replay', messageTimeToLive: 1800 });
    expect((await ttl('ttl-replay')).seconds).toBe(1800);
  });
});
