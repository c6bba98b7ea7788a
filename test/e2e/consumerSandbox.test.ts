/**
 * End to end from the Engage sandbox: its pusher POSTs signed envelopes to the local webhook → route
 * queues → occupancy consumer → `GET /api/occupancy/{id}`. Between them sits a proxy that forwards
 * every first attempt but loses its answer (the webhook enqueued, the pusher saw 500), so the
 * pusher retries and every notification arrives twice with the same Id; STOPs are pushed before
 * their STARTs (out of order).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { startHost, type RunningHost } from '../../local/host/startHost';
import { startEngageSandbox, type EngageSandbox } from '../../local/sandbox/engage/engageSandbox';
import { resetConfig } from '../../shared/config/settings';
import { queueDepth, waitFor } from '../helpers/queues';
import { sampleTriggerSettings } from '../helpers/app';

const SECRET = 'sandbox-listener-secret';
const QUEUES = ['engage-meetingprogression', 'engage-deskprogression', 'engage-desk', 'engage-meetingexternal'];
let azurite: RunningAzurite;
let host: RunningHost;
let sandbox: EngageSandbox;
let proxy: Server;
const forwarded: { id: string; attempt: number; status: number }[] = [];
const saved = { ...process.env };

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
    settings: {
      ...sampleTriggerSettings(),
      AzureWebJobsStorage: azurite.connectionString,
      ENGAGE_DECODER: 'base64-json',
      ENGAGE_WEBHOOK_SECRET: SECRET,
      ENGAGE_SIGNATURE_MODE: 'enforce',
    },
    useLocalSettings: false,
    hostJson: {
      extensions: { queues: { maxPollingInterval: '00:00:00.200', visibilityTimeout: '00:00:00', maxDequeueCount: 5, batchSize: 16 } },
    },
    log: () => undefined,
  });
  // Forwards to the webhook; the answer to each first attempt is lost (500 to the pusher).
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = { 'content-type': String(req.headers['content-type']), 'x-functions-key': host.functionKey };
      if (req.headers['ms-signature']) headers['ms-signature'] = String(req.headers['ms-signature']);
      fetch(`${host.url}/api/engage/webhook`, { method: 'POST', headers, body })
        .then(async (r) => {
          await r.arrayBuffer();
          const envelope = JSON.parse(body.toString('utf8')) as { Id: string; Attempt: number };
          forwarded.push({ id: envelope.Id, attempt: envelope.Attempt, status: r.status });
          res.writeHead(envelope.Attempt === 1 ? 500 : r.status).end();
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  sandbox = await startEngageSandbox({
    timeScale: 0.0005, // pusher retries after 30 ms / 120 ms instead of 1 / 4 minutes
    listeners: [
      {
        secretkey: SECRET,
        eventTypes: ['MEETINGPROGRESSION', 'DESKPROGRESSION', 'DESK', 'MEETINGEXTERNAL'],
        notificationUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api/engage/webhook`,
      },
    ],
  });
});

afterAll(async () => {
  await sandbox?.stop();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await host?.stop();
  await azurite?.stop();
  process.env = saved;
  resetConfig();
});

async function occupancy(resourceId: number): Promise<any> {
  const res = await fetch(`${host.url}/api/occupancy/${resourceId}`, { headers: { 'x-functions-key': host.functionKey } });
  return { status: res.status, ...(res.status === 200 ? ((await res.json()) as object) : {}) };
}

test('sandbox push → webhook → queues → occupancy, with redeliveries and out-of-order events', async () => {
  // Yesterday and today (UTC): the consumer keeps OCCUPANCY_HISTORY_HOURS (48 h) of history, so fixed dates would age out.
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const D = day(-1);
  const NEXT = day(0);
  const progression = (action: 'MEETINGPROGRESSION' | 'DESKPROGRESSION', booking: number, resource: number, step: number, at: string) => ({
    action,
    payload: [
      action === 'MEETINGPROGRESSION'
        ? { BookingId: booking, ResourceItemId: resource, UpdatedTime: at, MeetingProgressionAction: step, ActionSource: 1 }
        : { BookingId: booking, ResourceItemId: resource, UpdateTime: at, DeskProgressionAction: step, ActionSource: 0 },
    ],
  });
  // STOPs first, then the STARTs and EXTENDs they follow.
  await sandbox.push([
    progression('MEETINGPROGRESSION', 501, 96, 1, `${D}T10:00:00`),
    progression('DESKPROGRESSION', 601, 101, 1, `${D}T17:00:00`),
  ]);
  await sandbox.idle();
  await sandbox.push([
    progression('MEETINGPROGRESSION', 501, 96, 0, `${D}T09:00:00`),
    progression('MEETINGPROGRESSION', 502, 96, 0, `${D}T10:05:00`),
    progression('DESKPROGRESSION', 601, 101, 0, `${D}T08:00:00`),
    progression('DESKPROGRESSION', 602, 102, 0, `${D}T08:10:00`),
  ]);
  await sandbox.push([
    progression('DESKPROGRESSION', 602, 102, 2, `${D}T12:10:00`),
    { action: 'DESK', payload: [{ Date: `${NEXT}T00:00:00`, BookingID: 603, ResourceItemID: 102, Action: 1, UntilFurtherNotice: true }] },
    { action: 'MEETINGEXTERNAL', payload: { [`${D}T00:00:00`]: { ChangedItems: [{ Action: 1, BookingID: 502, ResourceItemID: 96 }] } } },
  ]);
  await sandbox.idle();

  // Every envelope reached the webhook twice (lost answer, then the pusher's retry), both accepted.
  const byId = new Map<string, number[]>();
  for (const f of forwarded) byId.set(f.id, [...(byId.get(f.id) ?? []), f.attempt]);
  expect(byId.size).toBe(3);
  for (const attempts of byId.values()) expect(attempts.sort()).toEqual([1, 2]);
  expect(forwarded.every((f) => f.status === 200)).toBe(true);

  await waitFor(
    async () => (await Promise.all(QUEUES.map((q) => queueDepth(azurite.connectionString, q)))).every((d) => d === 0),
    'the queues to drain',
    30_000,
  );

  expect(await occupancy(96)).toMatchObject({
    status: 200,
    kind: 'room',
    occupied: true,
    current: { bookingId: 502, since: `${D}T10:05:00`, lastAction: 'start' },
    bookings: [
      { bookingId: 501, progress: { action: 'stop', at: `${D}T10:00:00` } },
      { bookingId: 502, status: 'active', date: `${D}T00:00:00`, progress: { action: 'start' } },
    ],
  });
  expect(await occupancy(101)).toMatchObject({
    kind: 'desk',
    occupied: false,
    current: null,
    bookings: [{ bookingId: 601, progress: { action: 'stop', at: `${D}T17:00:00` } }],
  });
  expect(await occupancy(102)).toMatchObject({
    occupied: true,
    current: { bookingId: 602, since: `${D}T08:10:00`, lastAction: 'extend', lastActionAt: `${D}T12:10:00` },
    bookings: [{ bookingId: 602 }, { bookingId: 603, status: 'active', date: `${NEXT}T00:00:00`, untilFurtherNotice: true }],
  });
  for (const q of QUEUES) expect(await queueDepth(azurite.connectionString, `${q}-poison`)).toBe(0);
});
