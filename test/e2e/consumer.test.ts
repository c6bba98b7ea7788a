/**
 * End to end on the local host + Azurite: Engage CloudEvents in the route queues → the occupancy
 * consumer (queue triggers) → state over `GET /api/occupancy/{id}`, with duplicates and out-of-order
 * redelivery; a message that fails 5 times lands in poison, `poison replay` brings it back and it
 * is processed once the fault is gone; the poison monitor reports the poison depth.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { startHost, type RunningHost } from '../../local/host/startHost';
import { resetConfig } from '../../shared/config/settings';
import { cloudEvent, type CloudEvent } from '../../shared/envelope';
import { engageEventType } from '../../shared/engage/events';
import { QueueWriter } from '../../shared/queue/writer';
import { getStorage } from '../../shared/storage';
import { registerPoisonCommands } from '../../cli/poison';
import { sampleTriggerSettings } from '../helpers/app';
import { queueDepth, waitFor } from '../helpers/queues';
import { expectMatchesContract } from '../helpers/contract';

const SOURCE = '/eptura/engage';
let azurite: RunningAzurite;
let host: RunningHost;
let writer: QueueWriter;
let dir: string;
const logs: string[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  azurite = await startAzurite();
  dir = mkdtempSync(join(tmpdir(), 'consumer-e2e-'));
  writeFileSync(
    join(dir, 'local.settings.json'),
    JSON.stringify({ IsEncrypted: false, Values: { AzureWebJobsStorage: azurite.connectionString } }),
  );
  host = await startHost({
    functions: [
      'occupancyMeetingProgression',
      'occupancyDeskProgression',
      'occupancyMeetingExternal',
      'occupancyDesk',
      'occupancyApi',
      'poisonMonitor',
    ],
    settings: { ...sampleTriggerSettings(), AzureWebJobsStorage: azurite.connectionString, POISON_MONITOR_SCHEDULE: '*/1 * * * * *' },
    useLocalSettings: false,
    hostJson: {
      extensions: { queues: { maxPollingInterval: '00:00:00.200', visibilityTimeout: '00:00:00', maxDequeueCount: 5, batchSize: 16 } },
    },
    log: (line) => logs.push(line),
  });
  writer = new QueueWriter(await getStorage(), { claimCheckContainer: 'claim-checks' });
});

afterAll(async () => {
  await host?.stop();
  await azurite?.stop();
  rmSync(dir, { recursive: true, force: true });
  process.env = saved;
  resetConfig();
});

/** An Engage notification as the webhook enqueues it (contract: id `<Id>:<index>`, subject = first resource id). */
function engageEvent(action: string, notificationId: string, data: unknown, subject: number, time: string): CloudEvent {
  const event = cloudEvent({
    id: `${notificationId}:0`,
    source: SOURCE,
    type: engageEventType(action),
    subject: String(subject),
    data,
    time,
  });
  expectMatchesContract(`engage-${action.toLowerCase()}`, event);
  return event;
}

const meetingProgression = (n: string, booking: number, resource: number, action: number, at: string) =>
  engageEvent(
    'MEETINGPROGRESSION',
    n,
    [{ BookingId: booking, ResourceItemId: resource, UpdatedTime: at, MeetingProgressionAction: action, ActionSource: 1 }],
    resource,
    `${at}Z`,
  );
const deskProgression = (n: string, booking: number, resource: number, action: number, at: string) =>
  engageEvent(
    'DESKPROGRESSION',
    n,
    [{ BookingId: booking, ResourceItemId: resource, UpdateTime: at, DeskProgressionAction: action, ActionSource: 0 }],
    resource,
    `${at}Z`,
  );

async function occupancy(resourceId: number | string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${host.url}/api/occupancy/${resourceId}`, { headers: { 'x-functions-key': host.functionKey } });
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
}

async function idle(...queues: string[]): Promise<void> {
  await waitFor(
    async () => (await Promise.all(queues.map((q) => queueDepth(azurite.connectionString, q)))).every((d) => d === 0),
    `queues ${queues.join(', ')} to drain`,
    30_000,
    100,
  );
}

async function cli(...args: string[]): Promise<string> {
  let out = '';
  const program = new Command('engage-bridge').exitOverride().configureOutput({ writeErr: () => undefined });
  registerPoisonCommands(program, { out: (t) => void (out += t), cwd: () => dir, env: () => ({}) });
  await program.parseAsync(['node', 'engage-bridge', ...args]);
  return out;
}

describe('occupancy consumer end to end', () => {
  test('occupancy from progression and booking events, with duplicates and out-of-order redelivery', async () => {
    // Room 96: booking 101 starts, is extended, stops; booking 102 starts later and is still running.
    // Sent out of order and with duplicates, as redeliveries would arrive.
    const room = [
      meetingProgression('n-3', 101, 96, 1, '2026-11-23T10:30:00'),
      meetingProgression('n-1', 101, 96, 0, '2026-11-23T09:00:00'),
      meetingProgression('n-4', 102, 96, 0, '2026-11-23T11:00:00'),
      meetingProgression('n-2', 101, 96, 2, '2026-11-23T09:55:00'),
      meetingProgression('n-1', 101, 96, 0, '2026-11-23T09:00:00'),
      meetingProgression('n-3', 101, 96, 1, '2026-11-23T10:30:00'),
    ];
    // Desk 101: started, then a STOP that arrives before its START; desk 103 started and extended.
    const desks = [
      deskProgression('d-2', 7, 101, 1, '2026-11-23T12:00:00'),
      deskProgression('d-1', 7, 101, 0, '2026-11-23T08:30:00'),
      deskProgression('d-3', 8, 103, 0, '2026-11-23T08:45:00'),
      deskProgression('d-4', 8, 103, 2, '2026-11-23T12:45:00'),
      deskProgression('d-3', 8, 103, 0, '2026-11-23T08:45:00'),
    ];
    const deskBookings = [
      engageEvent(
        'DESK',
        'b-1',
        [{ Date: '2026-11-24T00:00:00', BookingID: 9, ResourceItemID: 101, Action: 1, UntilFurtherNotice: false }],
        101,
        '2026-11-23T07:00:00Z',
      ),
      engageEvent(
        'DESK',
        'b-2',
        [{ Date: '2026-11-24T00:00:00', BookingID: 9, ResourceItemID: 101, Action: 0, UntilFurtherNotice: false }],
        101,
        '2026-11-23T07:05:00Z',
      ),
    ];
    const roomBookings = [
      engageEvent(
        'MEETINGEXTERNAL',
        'r-1',
        {
          '2026-11-23T00:00:00': {
            ChangedItems: [
              { Action: 1, BookingID: 102, ResourceItemID: 96 },
              { Action: 1, BookingID: 300, ResourceItemID: 97 },
            ],
          },
        },
        96,
        '2026-11-23T06:00:00Z',
      ),
    ];
    // The deletion (b-2) is written first, the booking (b-1) after: out-of-order redelivery.
    await writer.sendAll([
      ...room.map((body) => ({ queue: 'engage-meetingprogression', body })),
      ...desks.map((body) => ({ queue: 'engage-deskprogression', body })),
      ...[deskBookings[1], deskBookings[0], deskBookings[1]].map((body) => ({ queue: 'engage-desk', body })),
      ...[...roomBookings, ...roomBookings].map((body) => ({ queue: 'engage-meetingexternal', body })),
    ]);
    await idle('engage-meetingprogression', 'engage-deskprogression', 'engage-desk', 'engage-meetingexternal');

    const room96 = await occupancy(96);
    expect(room96.status).toBe(200);
    expect(room96.body).toMatchObject({
      resourceId: 96,
      kind: 'room',
      occupied: true,
      current: { bookingId: 102, since: '2026-11-23T11:00:00', lastAction: 'start', source: 'external' },
      bookings: [
        { bookingId: 101, status: null, progress: { action: 'stop', at: '2026-11-23T10:30:00' } },
        { bookingId: 102, status: 'active', date: '2026-11-23T00:00:00', progress: { action: 'start', at: '2026-11-23T11:00:00' } },
      ],
    });
    const desk101 = await occupancy(101);
    expect(desk101.body).toMatchObject({
      kind: 'desk',
      occupied: false,
      current: null,
      bookings: [
        { bookingId: 7, progress: { action: 'stop' } },
        { bookingId: 9, status: 'deleted', date: '2026-11-24T00:00:00' },
      ],
    });
    expect((await occupancy(103)).body).toMatchObject({
      occupied: true,
      current: { bookingId: 8, since: '2026-11-23T08:45:00', lastAction: 'extend', lastActionAt: '2026-11-23T12:45:00', source: 'web' },
    });
    expect((await occupancy(97)).body).toMatchObject({ occupied: false, bookings: [{ bookingId: 300, status: 'active' }] });

    // A redelivery of everything changes nothing.
    const before = await Promise.all([96, 101, 103, 97].map(occupancy));
    await writer.sendAll(
      [...room, ...desks].map((body) => ({
        queue: body.type.endsWith('deskprogression') ? 'engage-deskprogression' : 'engage-meetingprogression',
        body,
      })),
    );
    await idle('engage-meetingprogression', 'engage-deskprogression');
    expect(await Promise.all([96, 101, 103, 97].map(occupancy))).toEqual(before);

    expect(await occupancy(4242)).toMatchObject({ status: 404 });
    expect(await occupancy('desk-1')).toMatchObject({ status: 400 });
    expect((await fetch(`${host.url}/api/occupancy/96`)).status).toBe(401);
  });

  test('fails 5 times → poison → replay → processed once the fault is gone; invalid messages are poisoned too', async () => {
    await writer.send({ queue: 'engage-deskprogression', body: deskProgression('f-1', 70, 777, 0, '2026-11-23T09:00:00') });
    await waitFor(async () => (await occupancy(777)).body?.occupied === true, 'desk 777 to be occupied');

    // The fault: another process holds a lease on the desk's state blob, so every write is refused.
    const storage = await getStorage();
    const lease = storage.blobs.getContainerClient('occupancy').getBlobClient('resources/777.json').getBlobLeaseClient();
    await lease.acquireLease(-1);
    await writer.send({ queue: 'engage-deskprogression', body: deskProgression('f-2', 70, 777, 1, '2026-11-23T10:00:00') });
    // And a message that can never be valid (a DESKPROGRESSION without its action).
    const invalid = deskProgression('f-bad', 71, 778, 0, '2026-11-23T10:00:00');
    delete (invalid.data as Record<string, unknown>[])[0].DeskProgressionAction;
    await writer.send({ queue: 'engage-deskprogression', body: invalid });

    await waitFor(
      async () => (await queueDepth(azurite.connectionString, 'engage-deskprogression-poison')) === 2,
      'two messages in engage-deskprogression-poison',
      30_000,
    );
    const failures = logs.filter((l) => l.includes('consumer occupancyDeskProgression: handler failed for event f-2:0'));
    expect(failures).toHaveLength(5);
    const invalidLines = logs.filter((l) => l.includes('consumer occupancyDeskProgression: invalid message') && l.includes('f-bad:0'));
    expect(invalidLines).toHaveLength(5);
    expect(invalidLines[0]).toContain('data does not match its schema: 0.DeskProgressionAction');
    expect((await occupancy(777)).body.occupied).toBe(true);

    // The poison monitor reports it.
    await waitFor(
      () =>
        logs.some((l) =>
          l.includes('PoisonQueueDepth {"queue":"engage-deskprogression-poison","sourceQueue":"engage-deskprogression","depth":2}'),
        ),
      'the poison monitor metric line',
      10_000,
    );

    const shown = await cli('poison', 'show', '--queue', 'engage-deskprogression');
    expect(shown).toContain('engage-deskprogression-poison: 2 message(s)');
    expect(shown).toContain('id=f-2:0 type=com.eptura.engage.deskprogression subject=777');

    // The fault goes away; replay brings the message back and it is processed.
    await lease.releaseLease();
    const logMark = logs.length;
    const replay = await cli('poison', 'replay', '--queue', 'engage-deskprogression-poison');
    expect(replay).toContain('replayed 2 message(s) from engage-deskprogression-poison to engage-deskprogression');
    await waitFor(async () => (await occupancy(777)).body?.occupied === false, 'desk 777 to be free after the replayed STOP', 30_000);
    expect((await occupancy(777)).body).toMatchObject({
      bookings: [{ bookingId: 70, progress: { action: 'stop', at: '2026-11-23T10:00:00' } }],
    });
    // The invalid one fails again and returns to poison: it never vanishes.
    await waitFor(
      async () => (await queueDepth(azurite.connectionString, 'engage-deskprogression-poison')) === 1,
      'the invalid message back in poison',
      30_000,
    );
    expect(logs.slice(logMark).filter((l) => l.includes('handler failed for event f-2:0'))).toHaveLength(0);
  });
});
