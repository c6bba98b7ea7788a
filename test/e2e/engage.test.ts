/**
 * Engage push path end to end: the CLI registers a listener on the Engage sandbox (token + listener
 * API) → the sandbox pusher POSTs signed envelopes of several types to the local host's
 * `/api/engage/webhook` (signature enforced) → Azurite queues by route (a filtered route keeps only
 * its resources) → a queue-triggered test consumer receives them.
 */
import { Command } from 'commander';
import { app } from '@azure/functions';
import { registerListenerCommands } from '../../cli/listeners';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { startHost, type RunningHost } from '../../local/host/startHost';
import { startEngageSandbox, type EngageSandbox } from '../../local/sandbox/engage/engageSandbox';
import { resetConfig } from '../../shared/config/settings';
import { drainQueue, waitFor } from '../helpers/queues';
import { expectMatchesContract } from '../helpers/contract';

let azurite: RunningAzurite;
let host: RunningHost;
let sandbox: EngageSandbox;
const saved = { ...process.env };
const received: { id: string; type: string; subject?: string; data: unknown }[] = [];

app.storageQueue('engageTestConsumer', {
  queueName: 'engage-meetingexternal',
  connection: 'AzureWebJobsStorage',
  handler: async (message) => {
    received.push(message as (typeof received)[number]);
  },
});

beforeAll(async () => {
  azurite = await startAzurite();
  sandbox = await startEngageSandbox({ timeScale: 0.001 });
  host = await startHost({
    functions: ['engageWebhook', 'engageTestConsumer'],
    settings: {
      AzureWebJobsStorage: azurite.connectionString,
      ENGAGE_DECODER: 'base64-json',
      ENGAGE_SIGNATURE_MODE: 'enforce',
      ENGAGE_WEBHOOK_SECRET: 'e2e-listener-secret',
      ENGAGE_ROUTES: JSON.stringify([
        { eventTypes: ['MEETINGEXTERNAL'], queue: 'engage-meetingexternal' },
        { eventTypes: ['DESK'], queue: 'engage-desk' },
        { eventTypes: ['DESKPROGRESSION'], queue: 'deskprogression-room-101', resourceIds: [101] },
      ]),
    },
    useLocalSettings: false,
    hostJson: {
      extensions: { queues: { maxPollingInterval: '00:00:00.200', visibilityTimeout: '00:00:00', maxDequeueCount: 5, batchSize: 16 } },
    },
    log: () => undefined,
  });
});

afterAll(async () => {
  await sandbox?.stop();
  await host?.stop();
  await azurite?.stop();
  process.env = saved;
  resetConfig();
});

test('CLI registers a listener → sandbox pushes → right queues → queue-triggered consumer', async () => {
  const notificationUrl = `${host.url}/api/engage/webhook?code=${host.functionKey}`;
  Object.assign(process.env, {
    ENGAGE_BASE_URL: sandbox.url,
    ENGAGE_API_SUFFIX: sandbox.apiSuffix,
    ENGAGE_CLIENT_ID: sandbox.credentials.clientId,
    ENGAGE_PASSWORD: sandbox.credentials.password,
    ENGAGE_SUBSCRIPTION_KEY: sandbox.credentials.subscriptionKey,
  });
  const program = new Command('engage-bridge').exitOverride();
  registerListenerCommands(program);
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    await program.parseAsync([
      'node',
      'engage-bridge',
      'listeners',
      'register',
      '--url',
      notificationUrl,
      '--event-types',
      'MEETINGEXTERNAL,DESK,DESKPROGRESSION,VISITOR',
      '--provider',
      '3',
    ]);
  } finally {
    write.mockRestore();
  }
  expect(
    sandbox
      .listeners()
      .map((l) => l.eventType)
      .sort(),
  ).toEqual([2, 3, 6, 8]);

  // The echo check the WebHooks sender may do on registration.
  const echo = await fetch(`${notificationUrl}&echo=check-42`);
  expect(await echo.text()).toBe('check-42');

  const ids = await sandbox.push([
    { action: 'MEETINGEXTERNAL', payload: { '2026-11-23T00:00:00': { ChangedItems: [{ Action: 1, BookingID: 99, ResourceItemID: 96 }] } } },
    {
      action: 'DESK',
      payload: [{ Date: '2026-11-24T00:00:00', BookingID: 102, ResourceItemID: 205, Action: 1, UntilFurtherNotice: false }],
    },
    {
      action: 'DESKPROGRESSION',
      payload: [{ BookingId: 102, ResourceItemId: 101, UpdateTime: '2026-11-23T09:00:00', DeskProgressionAction: 0, ActionSource: 0 }],
    },
    {
      action: 'DESKPROGRESSION',
      payload: [{ BookingId: 103, ResourceItemId: 310, UpdateTime: '2026-11-23T09:05:00', DeskProgressionAction: 0, ActionSource: 0 }],
    },
    { action: 'VISITOR', payload: [{ VisitorID: 7, Status: 'Arrived' }] },
  ]);
  expect(ids).toHaveLength(1);
  await sandbox.idle();
  const attempts = sandbox.deliveries().filter((d) => d.envelopeId === ids[0]);
  expect(attempts.map((d) => d.status)).toEqual([200]);

  await waitFor(() => received.length >= 1, 'the consumer to receive the MEETINGEXTERNAL event', 20_000, 50);
  expect(received).toEqual([expect.objectContaining({ id: `${ids[0]}:0`, type: 'com.eptura.engage.meetingexternal', subject: '96' })]);
  for (const m of received) expectMatchesContract('engage-meetingexternal', m);

  const desk = await drainQueue(azurite.connectionString, 'engage-desk');
  for (const m of desk) expectMatchesContract('engage-desk', m.body);
  expect(desk.map((m) => m.body)).toEqual([expect.objectContaining({ id: `${ids[0]}:1`, subject: '205' })]);
  const filtered = await drainQueue(azurite.connectionString, 'deskprogression-room-101');
  for (const m of filtered) expectMatchesContract('engage-deskprogression', m.body);
  expect(filtered.map((m) => (m.body as { id: string }).id)).toEqual([`${ids[0]}:2`]); // resource 310 filtered out
  const unrouted = await drainQueue(azurite.connectionString, 'engage-unrouted');
  for (const m of unrouted) expectMatchesContract('engage-unrouted', m.body);
  expect(unrouted.map((m) => (m.body as { type: string }).type)).toEqual(['com.eptura.engage.visitor']);
});

test('a wrongly signed envelope is refused (401) and the pusher retries it, then gives up', async () => {
  await sandbox.stop();
  sandbox = await startEngageSandbox({
    timeScale: 0.001,
    listeners: [
      {
        secretkey: 'not-the-configured-secret',
        eventTypes: [2],
        notificationUrl: `${host.url}/api/engage/webhook?code=${host.functionKey}`,
      },
    ],
  });
  const [id] = await sandbox.push([{ action: 'DESK' }]);
  await sandbox.idle();
  expect(
    sandbox
      .deliveries()
      .filter((d) => d.envelopeId === id)
      .map((d) => d.status),
  ).toEqual([401, 401, 401]);
  expect(await drainQueue(azurite.connectionString, 'engage-desk')).toEqual([]);
});
