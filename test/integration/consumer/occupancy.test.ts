/** Occupancy consumer against a real Azurite: concurrency, claim checks, the HTTP API. */
import { HttpRequest } from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { cloudEvent } from '../../../shared/envelope';
import { resetConfig } from '../../../shared/config/settings';
import { QueueWriter } from '../../../shared/queue/writer';
import { getStorage } from '../../../shared/storage';
import { ConcurrencyError } from '../../../shared/errors';
import { getOccupancy } from '../../../examples/occupancy/api';
import { occupancyStore } from '../../../examples/occupancy/consumer';
import { OccupancyStore } from '../../../examples/occupancy/store';
import { deskProgressionChanges, occupancyView } from '../../../examples/occupancy/model';
import { occupancyDeskProgression } from '../../../functions/occupancyDeskProgression';
import { occupancyMeetingExternal } from '../../../functions/occupancyMeetingExternal';
import { decodeMessageText } from '../../helpers/queues';
import { loggedContext } from '../../unit/consumer/logContext';

let azurite: RunningAzurite;
const saved = { ...process.env };

beforeAll(async () => {
  azurite = await startAzurite();
  process.env.AzureWebJobsStorage = azurite.connectionString;
  process.env.OCCUPANCY_CONTAINER = 'occupancy-it';
  resetConfig();
});

afterAll(async () => {
  process.env = saved;
  resetConfig();
  await azurite?.stop();
});

function deskEvent(id: string, bookingId: number, action: number, at: string, resourceId = 501) {
  return cloudEvent({
    id,
    source: '/eptura/engage',
    type: 'com.eptura.engage.deskprogression',
    subject: String(resourceId),
    data: [{ BookingId: bookingId, ResourceItemId: resourceId, UpdateTime: at, DeskProgressionAction: action, ActionSource: 0 }],
  });
}

function get(resourceId: string) {
  return getOccupancy(
    new HttpRequest({ method: 'GET', url: `http://localhost/api/occupancy/${resourceId}`, params: { resourceId } }),
    loggedContext().context,
  );
}

describe('occupancy consumer (Azurite)', () => {
  test('concurrent writers on one resource: every event is applied once (ETag retries)', async () => {
    const storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString });
    const store = new OccupancyStore(storage, { container: 'occupancy-concurrent', historyMs: 48 * 3_600_000, maxAttempts: 50 });
    const events = Array.from({ length: 16 }, (_, i) => ({
      id: `c${i}:0`,
      changes: deskProgressionChanges({ id: `c${i}:0` }, [
        {
          BookingId: 1000 + i,
          ResourceItemId: 7,
          UpdateTime: `2026-11-23T09:${String(i).padStart(2, '0')}:00`,
          DeskProgressionAction: 0,
          ActionSource: 0,
        },
      ]),
    }));
    await Promise.all(events.map((e) => store.apply(7, e.id, e.changes)));
    const doc = (await store.get(7))!;
    expect(Object.keys(doc.bookings)).toHaveLength(16);
    expect(doc.appliedEventIds.slice().sort()).toEqual(events.map((e) => e.id).sort());
    expect(occupancyView(doc).current).toMatchObject({ bookingId: 1015 });
  });

  test('a blob leased by another process fails fast (no contention retries)', async () => {
    const storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString });
    const store = new OccupancyStore(storage, { container: 'occupancy-lease', historyMs: 48 * 3_600_000 });
    const change = (id: string, action: number, minute: number) =>
      deskProgressionChanges({ id }, [
        { BookingId: 1, ResourceItemId: 8, UpdateTime: `2026-11-23T09:0${minute}:00`, DeskProgressionAction: action, ActionSource: 0 },
      ]);
    await store.apply(8, 'l1:0', change('l1:0', 0, 1));
    const lease = storage.blobs.getContainerClient('occupancy-lease').getBlobClient('resources/8.json').getBlobLeaseClient();
    await lease.acquireLease(-1);
    try {
      await expect(store.apply(8, 'l2:0', change('l2:0', 1, 2))).rejects.toThrow(ConcurrencyError);
    } finally {
      await lease.releaseLease();
    }
    await store.apply(8, 'l2:0', change('l2:0', 1, 2));
    expect(occupancyView((await store.get(8))!).occupied).toBe(false);
  });

  test('queue trigger handler: duplicates and out-of-order redelivery; state over HTTP', async () => {
    const handler = occupancyDeskProgression;
    const start = deskEvent('w1:0', 9001, 0, '2026-11-23T09:00:00');
    const extend = deskEvent('w2:0', 9001, 2, '2026-11-23T10:00:00');
    const stop = deskEvent('w3:0', 9001, 1, '2026-11-23T11:00:00');
    const ctx = () => loggedContext({ id: 'm', dequeueCount: 1 }).context;

    await handler(start, ctx());
    let res = await get('501');
    expect(res.status).toBe(200);
    expect(res.jsonBody).toMatchObject({
      resourceId: 501,
      kind: 'desk',
      occupied: true,
      current: { bookingId: 9001, lastAction: 'start' },
    });
    const firstUpdatedAt = (res.jsonBody as { updatedAt: string }).updatedAt;

    const dup = loggedContext({ id: 'm', dequeueCount: 1 });
    await handler(start, dup.context);
    expect(dup.text()).toContain('resource 501: unchanged');
    expect(((await get('501')).jsonBody as { updatedAt: string }).updatedAt).toBe(firstUpdatedAt);

    await handler(stop, ctx());
    await handler(extend, ctx()); // late: older than the STOP
    await handler(stop, ctx()); // duplicate
    res = await get('501');
    expect(res.jsonBody).toMatchObject({
      occupied: false,
      current: null,
      bookings: [{ bookingId: 9001, progress: { action: 'stop', at: '2026-11-23T11:00:00' } }],
    });
  });

  test('a claim-checked event (> 64 KiB) is resolved transparently', async () => {
    const storage = await getStorage('AzureWebJobsStorage', { AzureWebJobsStorage: azurite.connectionString });
    const writer = new QueueWriter(storage, { claimCheckContainer: 'claim-checks' });
    const big = cloudEvent({
      id: 'big:0',
      source: '/eptura/engage',
      type: 'com.eptura.engage.meetingexternal',
      data: {
        '2026-11-24T00:00:00': {
          ChangedItems: Array.from({ length: 1500 }, (_, i) => ({
            Action: 1,
            BookingID: 50_000 + i,
            ResourceItemID: 600 + (i % 3),
            Comment: 'x'.repeat(40),
          })),
        },
      },
    });
    await writer.send({ queue: 'occupancy-it-claims', body: big, key: big.id });
    const queue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient('occupancy-it-claims');
    const received = (await queue.receiveMessages()).receivedMessageItems[0];
    const { body } = decodeMessageText(received.messageText);
    expect(body).toMatchObject({ id: 'big:0', claimcheck: expect.stringMatching(/^claim-checks\//) });
    await occupancyMeetingExternal(body, loggedContext({ id: received.messageId, dequeueCount: 1 }).context);
    for (const r of ['600', '601', '602']) {
      const res = await get(r);
      expect(res.status).toBe(200);
      expect((res.jsonBody as { bookings: unknown[] }).bookings).toHaveLength(500);
    }
  });

  test('a claim check whose blob is gone is an invalid message', async () => {
    const log = loggedContext({ id: 'gone', dequeueCount: 5 }, 'occupancyMeetingExternal');
    await expect(
      occupancyMeetingExternal(
        { id: 'x', type: 'com.eptura.engage.meetingexternal', claimcheck: 'claim-checks/nope/missing.json', claimcheckby: 'engage-bridge' },
        log.context,
      ),
    ).rejects.toThrow(/claim-check blob "claim-checks\/nope\/missing.json" does not exist/);
    expect(log.text()).toMatch(/error: consumer occupancyMeetingExternal: invalid message gone/);
  });

  test('HTTP: 404 unknown, 400 malformed', async () => {
    expect(await get('424242')).toMatchObject({ status: 404, jsonBody: { error: 'not_found' } });
    expect(await get('abc')).toMatchObject({
      status: 400,
      jsonBody: { error: 'bad_request', reason: expect.stringContaining('positive integer') },
    });
    expect(await get('0')).toMatchObject({ status: 400 });
  });

  test('HTTP: 503 when storage is unreachable', async () => {
    const { freePort } = await import('../../../local/ports');
    const port = await freePort();
    process.env.AzureWebJobsStorage = azurite.connectionString.replace(`:${azurite.blobPort}/`, `:${port}/`);
    resetConfig();
    try {
      await expect(occupancyStore()).resolves.toBeDefined();
      const res = await get('501');
      expect(res).toMatchObject({ status: 503, jsonBody: { error: 'storage_unavailable' } });
    } finally {
      process.env.AzureWebJobsStorage = azurite.connectionString;
      resetConfig();
    }
  });
});
