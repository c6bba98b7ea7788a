/**
 * Queues and containers deleted at runtime are created again by the code that needs them: once
 * (concurrent writers that all find it missing cause one creation), not on every call. Real Azurite;
 * the creation calls are counted with spies that call through to the SDK.
 */
import { QueueClient } from '@azure/storage-queue';
import { ContainerClient } from '@azure/storage-blob';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { QueueWriter } from '../../../shared/queue/writer';
import { JsonBlobStore } from '../../../shared/state/jsonBlobStore';
import { getStorage, type StorageClients } from '../../../shared/storage';
import { drainQueue } from '../../helpers/queues';

let azurite: RunningAzurite;
let storage: StorageClients;

beforeAll(async () => {
  azurite = await startAzurite();
  storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString });
});
afterAll(() => azurite?.stop());
afterEach(() => jest.restoreAllMocks());

test('QueueWriter: a queue and the claim-check container deleted underneath come back, created once each', async () => {
  const writer = new QueueWriter(storage, { claimCheckContainer: 'heal-claims' });
  const big = 'x'.repeat(70 * 1024); // over the queue limit: goes through the claim-check container
  await writer.sendAll([
    { queue: 'heal-queue', body: { n: -1 } },
    { queue: 'heal-queue', body: big, key: 'big-0' },
  ]);
  const queueCreations = jest.spyOn(QueueClient.prototype, 'createIfNotExists');
  const containerCreations = jest.spyOn(ContainerClient.prototype, 'createIfNotExists');
  await writer.sendAll(Array.from({ length: 10 }, (_, n) => ({ queue: 'heal-queue', body: { n } })));
  expect(queueCreations).not.toHaveBeenCalled(); // cached: not on every call

  await storage.queues.getQueueClient('heal-queue').delete();
  await storage.blobs.getContainerClient('heal-claims').delete();
  const messages = [
    ...Array.from({ length: 40 }, (_, n) => ({ queue: 'heal-queue', body: { n } })),
    ...[1, 2, 3].map((n) => ({ queue: 'heal-queue', body: big, key: `big-${n}` })),
  ];
  await writer.sendAll(messages);
  expect(queueCreations).toHaveBeenCalledTimes(1);
  expect(containerCreations).toHaveBeenCalledTimes(1);
  const landed = await drainQueue(azurite.connectionString, 'heal-queue');
  expect(landed).toHaveLength(43);
  expect(landed.filter((m) => typeof (m.body as { claimcheck?: unknown }).claimcheck === 'string')).toHaveLength(3);
});

test('JsonBlobStore: a deleted container reads as empty and the next writes create it once', async () => {
  const store = new JsonBlobStore(storage, 'heal-state');
  await store.write('a.json', { v: 1 });
  await storage.blobs.getContainerClient('heal-state').delete();
  const creations = jest.spyOn(ContainerClient.prototype, 'createIfNotExists');

  expect(await store.read('a.json')).toBeUndefined();
  expect(await store.list()).toEqual([]);
  await store.delete('a.json'); // nothing to delete: no error
  expect(creations).not.toHaveBeenCalled(); // reading creates nothing
  await Promise.all(Array.from({ length: 10 }, (_, n) => store.write(`doc-${n}.json`, { n })));
  expect(creations).toHaveBeenCalledTimes(1);
  expect(await store.list()).toHaveLength(10);
  expect((await store.read<{ n: number }>('doc-3.json'))?.value).toEqual({ n: 3 });
});
