/**
 * Claim-check pointers on a real Azurite: what QueueWriter writes for bodies over the queue limit is
 * the contract's `claim-check-pointer` (envelope attributes + claimcheck + claimcheckby for a CloudEvent, the bare
 * pointer otherwise), and readMessageBody gets the whole body back.
 */
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { cloudEvent } from '../../../shared/envelope';
import { readMessageBody } from '../../../shared/queue/reader';
import { QueueWriter } from '../../../shared/queue/writer';
import { getStorage, type StorageClients } from '../../../shared/storage';
import { expectMatchesContract } from '../../helpers/contract';
import { drainQueue } from '../../helpers/queues';

let azurite: RunningAzurite;
let storage: StorageClients;
let writer: QueueWriter;

beforeAll(async () => {
  azurite = await startAzurite();
  storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString });
  writer = new QueueWriter(storage, { claimCheckContainer: 'claim-checks' });
});
afterAll(async () => {
  await azurite?.stop();
});

const big = 'x'.repeat(70 * 1024);

test.each([
  [
    'a CloudEvent: its attributes and the pointer',
    cloudEvent({ id: 'n-1:0', source: '/eptura/engage', type: 'com.eptura.engage.visitor', data: { Notes: big } }),
    ['specversion', 'id', 'source', 'type', 'time', 'datacontenttype', 'claimcheck', 'claimcheckby'],
  ],
  [
    'a body that only looks like a CloudEvent: the bare pointer',
    { specversion: '1.0', id: 'x', note: big },
    ['claimcheck', 'claimcheckby'],
  ],
  ['a raw text body: the bare pointer', big, ['claimcheck', 'claimcheckby']],
])('over the limit, %s', async (_name, body, keys) => {
  await writer.send({ queue: 'engage-visitor', body });
  const [message] = await drainQueue(azurite.connectionString, 'engage-visitor');
  expect(Object.keys(message.body as object).sort()).toEqual([...keys].sort());
  expect(expectMatchesContract('engage-visitor', message.body)).toBe('claim-check-pointer');
  expect(await readMessageBody(message.body, storage)).toEqual(body);
});
