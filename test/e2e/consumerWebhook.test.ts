/**
 * End to end through the real Engage webhook: pusher envelopes POSTed to `/api/engage/webhook` (as
 * the Notification Pusher, or the sandbox pusher, sends them) → route queues → occupancy consumer →
 * `GET /api/occupancy/{id}`, with a pusher retry (same Id, higher Attempt) and out-of-order delivery.
 */
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { startHost, type RunningHost } from '../../local/host/startHost';
import { resetConfig } from '../../shared/config/settings';
import { encodeBase64Json } from '../../shared/engage/decoder';
import { queueDepth, waitFor } from '../helpers/queues';
import { sampleTriggerSettings } from '../helpers/app';

let azurite: RunningAzurite;
let host: RunningHost;
const saved = { ...process.env };
const QUEUES = ['engage-meetingprogression', 'engage-deskprogression', 'engage-desk', 'engage-meetingexternal'];

beforeAll(async () => {
  azurite = await startAzurite();
  host = await startHost({
    functions: [
      'engageWebhook',
      'occupancyMeetingProgression',
      'occupancyDeskProgression',
      'occupancyMeetingExternal',
      'occupancyDesk',
      'occupancyApi',
    ],
    settings: { ...sampleTriggerSettings(), AzureWebJobsStorage: azurite.connectionString, ENGAGE_DECODER: 'base64-json' },
    useLocalSettings: false,
    hostJson: {
      extensions: { queues: { maxPollingInterval: '00:00:00.200', visibilityTimeout: '00:00:00', maxDequeueCount: 5, batchSize: 16 } },
    },
    log: () => undefined,
  });
});

afterAll(async () => {
  await host?.stop();
  await azurite?.stop();
  process.env = saved;
  resetConfig();
});

async function push(id: string, notifications: { Action: string; payload: unknown }[], attempt = 1): Promise<number> {
  const res = await fetch(`${host.url}/api/engage/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-functions-key': host.functionKey },
    body: JSON.stringify({
      Id: id,
      Attempt: attempt,
      Properties: { StaticParamA: 'DateTime' },
      Notifications: notifications.map((n) => ({ Action: n.Action, DynamicParamA: encodeBase64Json(n.payload) })),
    }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function occupancy(resourceId: number): Promise<any> {
  const res = await fetch(`${host.url}/api/occupancy/${resourceId}`, { headers: { 'x-functions-key': host.functionKey } });
  return { status: res.status, ...(res.status === 200 ? ((await res.json()) as object) : {}) };
}

test('pusher → webhook → queues → occupancy consumer', async () => {
  const desk = (booking: number, resource: number, action: number, at: string) => ({
    Action: 'DESKPROGRESSION',
    payload: [{ BookingId: booking, ResourceItemId: resource, UpdateTime: at, DeskProgressionAction: action, ActionSource: 1 }],
  });
  // The STOP arrives before the START (out of order); one envelope carries two notifications.
  expect(await push('a1', [desk(11, 301, 1, '2026-11-23T11:00:00')])).toBe(200);
  expect(
    await push('a2', [
      desk(11, 301, 0, '2026-11-23T09:00:00'),
      {
        Action: 'MEETINGPROGRESSION',
        payload: [{ BookingId: 21, ResourceItemId: 401, UpdatedTime: '2026-11-23T09:30:00', MeetingProgressionAction: 0, ActionSource: 0 }],
      },
    ]),
  ).toBe(200);
  // Booking changes: a desk booked then cancelled, and the pusher retrying the booking afterwards.
  const booked = [
    {
      Action: 'DESK',
      payload: [{ Date: '2026-11-24T00:00:00', BookingID: 31, ResourceItemID: 302, Action: 1, UntilFurtherNotice: false }],
    },
  ];
  expect(await push('b1', booked)).toBe(200);
  await waitFor(async () => (await occupancy(302)).status === 200, 'the desk booking to be applied');
  expect(
    await push('b2', [
      {
        Action: 'DESK',
        payload: [{ Date: '2026-11-24T00:00:00', BookingID: 31, ResourceItemID: 302, Action: 0, UntilFurtherNotice: false }],
      },
    ]),
  ).toBe(200);
  await waitFor(async () => (await occupancy(302)).bookings?.[0]?.status === 'deleted', 'the cancellation to be applied');
  expect(await push('b1', booked, 2)).toBe(200); // retry of the same envelope: same event ids
  expect(
    await push('c1', [
      {
        Action: 'MEETINGEXTERNAL',
        payload: { '2026-11-23T00:00:00': { ChangedItems: [{ Action: 1, BookingID: 21, ResourceItemID: 401 }] } },
      },
    ]),
  ).toBe(200);

  await waitFor(
    async () => (await Promise.all(QUEUES.map((q) => queueDepth(azurite.connectionString, q)))).every((d) => d === 0),
    'the queues to drain',
    30_000,
  );

  expect(await occupancy(301)).toMatchObject({
    status: 200,
    kind: 'desk',
    occupied: false,
    bookings: [{ bookingId: 11, progress: { action: 'stop', at: '2026-11-23T11:00:00' } }],
  });
  expect(await occupancy(401)).toMatchObject({
    kind: 'room',
    occupied: true,
    current: { bookingId: 21, since: '2026-11-23T09:30:00', lastAction: 'start', source: 'web' },
    bookings: [{ bookingId: 21, status: 'active', date: '2026-11-23T00:00:00' }],
  });
  expect(await occupancy(302)).toMatchObject({ occupied: false, bookings: [{ bookingId: 31, status: 'deleted' }] });
  for (const q of QUEUES) expect(await queueDepth(azurite.connectionString, `${q}-poison`)).toBe(0);
});
