/**
 * The archive on the write path, against Azurite: what the webhook, the v2 drain and the Noojee
 * poller enqueue is archived exactly as queued; with the archive's storage down the webhook answers
 * 503 in strict mode (never 200 without the archive) and 200 in best-effort mode. Queues and blobs
 * live in two Azurite processes (one connection string) so the blob side can go down alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { InvocationContext } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { startNoojeeSandbox, type RunningNoojeeSandbox } from '../../../local/sandbox/noojee/noojeeSandbox';
import {
  notificationsSandboxSettings,
  sampleEvent,
  startNotificationsSandbox,
  type NotificationsSandbox,
} from '../../../local/sandbox/notificationApiV2/notificationsSandbox';
import { scanArchive } from '../../../shared/archive/find';
import type { ArchiveRecord } from '../../../shared/archive/record';
import { resetConfig } from '../../../shared/config/settings';
import { encodeBase64Json } from '../../../shared/engage/decoder';
import { resetWebhook } from '../../../shared/engage/webhook';
import { runCallEvents } from '../../../shared/noojee/callEvents';
import { runNotificationsDrain } from '../../../shared/notificationApiV2/run';
import { azuriteConnectionString } from '../../../shared/storage';
import { REPO_ROOT } from '../../helpers/app';
import { drainQueue } from '../../helpers/queues';
import { callWebhook } from '../engage/serveWebhook';

let queues: RunningAzurite;
let blobs: RunningAzurite;
let noojee: RunningNoojeeSandbox;
let notifications: NotificationsSandbox;
let conn: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  [queues, blobs, noojee, notifications] = await Promise.all([
    startAzurite(),
    startAzurite(),
    startNoojeeSandbox(),
    startNotificationsSandbox({ maxPageSize: 1000 }),
  ]);
  conn = azuriteConnectionString(blobs.blobPort, queues.queuePort);
}, 60_000);

afterAll(async () => {
  process.env = savedEnv;
  resetConfig();
  resetWebhook();
  await Promise.all([queues?.stop(), blobs?.stop(), noojee?.stop(), notifications?.stop()]);
});

/** Every setting a test needs, replacing the environment (then cached config and webhook state are forgotten). */
function configure(settings: Record<string, string>): void {
  process.env = { PATH: savedEnv.PATH, AzureWebJobsStorage: conn, ENGAGE_STORAGE_DEADLINE_MS: '3000', ...settings };
  resetConfig();
  resetWebhook();
}

async function archived(container: string, from: Date): Promise<ArchiveRecord[]> {
  const c = BlobServiceClient.fromConnectionString(conn).getContainerClient(container);
  const out: ArchiveRecord[] = [];
  for await (const item of scanArchive(c, { from, to: new Date() })) {
    expect(item.kind).not.toBe('unreadable');
    if (item.kind === 'record') out.push(item.record);
  }
  return out;
}

function envelope(id: string): string {
  const desk = [{ Date: '2026-11-23T00:00:00', BookingID: 7, ResourceItemID: 42, Action: 1, UntilFurtherNotice: false }];
  return JSON.stringify({
    Id: id,
    Attempt: 1,
    Properties: { StaticParamA: 'DateTime' },
    Notifications: [
      { Action: 'DESK', DynamicParamA: encodeBase64Json(desk) },
      { Action: 'DESK', DynamicParamA: 'not base64 json' }, // dead-lettered
    ],
  });
}

test('the webhook, the v2 drain and the Noojee poller each archive what they enqueue, exactly as queued', async () => {
  const from = new Date();
  const container = 'archive-sources';

  // Engage webhook: one routed message and one dead letter (raw format for the route: attributes from the event).
  configure({
    ARCHIVE_CONTAINER: container,
    ENGAGE_DECODER: 'base64-json',
    ENGAGE_MESSAGE_FORMAT: 'raw',
    DEADLETTER_QUEUE: 'archive-deadletter',
  });
  expect((await callWebhook({ body: envelope('arch-env-1') })).status).toBe(200);
  const desk = await drainQueue(conn, 'engage-desk');
  const dead = await drainQueue(conn, 'archive-deadletter');
  expect(desk).toHaveLength(1);
  expect(dead).toHaveLength(1);

  // Notification API v2 drain: a subscription, then 3 notifications.
  configure({
    ARCHIVE_CONTAINER: container,
    ...notificationsSandboxSettings(notifications),
    NOTIFICATIONS_QUEUE: 'archive-notifications',
    CHECKPOINT_CONTAINER: 'archive-checkpoints-v2',
    JOURNAL_CONTAINER: 'archive-journal',
  });
  const log = { log: () => undefined, warn: () => undefined, error: () => undefined };
  const first = await runNotificationsDrain(log);
  notifications.publish({ subscriptionId: first!.subscriptionId!, events: [0, 1, 2].map((i) => sampleEvent('101', new Date(), i)) });
  await runNotificationsDrain(log);
  const v2 = await drainQueue(conn, 'archive-notifications');
  expect(v2).toHaveLength(3);

  // Noojee: the seed's first sample call (two events).
  configure({
    ARCHIVE_CONTAINER: container,
    CHECKPOINT_CONTAINER: 'archive-checkpoints-noojee',
    NOOJEE_BASE_URL: noojee.url,
    NOOJEE_API_KEY: noojee.apiKey,
    NOOJEE_EXTENSIONS: '400,410',
    NOOJEE_EVENTS_QUEUE: 'archive-noojee',
    NOOJEE_RUN_SECONDS: '4',
    NOOJEE_POLL_TIMEOUT_SECONDS: '2',
    NOOJEE_HTTP_TIMEOUT_MARGIN_MS: '1000',
    NOOJEE_RETRY_DELAY_MS: '100',
  });
  const firstWait = noojee.nextSubscribe((s) => s.lastSequenceNumber === 8);
  const run = runCallEvents(new InvocationContext({ functionName: 'callEvents', logHandler: () => undefined }));
  await firstWait;
  const afterCall = noojee.nextSubscribe((s) => s.lastSequenceNumber === 10);
  noojee.playSeedSample(1);
  await afterCall;
  await run;
  const calls = await drainQueue(conn, 'archive-noojee');
  expect(calls).toHaveLength(2);

  const records = await archived(container, from);
  const bySource = (s: string) => records.filter((r) => r.source === s);
  // Each queued message is archived once, with its queue and its exact text.
  const expectArchived = (source: string, queue: string, messages: { text: string }[]) => {
    const recs = bySource(source).filter((r) => r.queue === queue);
    expect(recs.map((r) => r.message).sort()).toEqual(messages.map((m) => m.text).sort());
  };
  expectArchived('engage', 'engage-desk', desk);
  expectArchived('engage', 'archive-deadletter', dead);
  expectArchived('notifications', 'archive-notifications', v2);
  expectArchived('noojee', 'archive-noojee', calls);
  expect(records).toHaveLength(1 + 1 + 3 + 2);

  // Attributes: a raw Engage message is filed under its event's id and type; CloudEvents under their own.
  const raw = bySource('engage').find((r) => r.queue === 'engage-desk')!;
  expect(raw).toMatchObject({ v: 1, id: 'arch-env-1:0', type: 'com.eptura.engage.desk', subject: '42' });
  expect(JSON.parse(raw.message!)).toEqual(JSON.parse(desk[0].text));
  expect(bySource('engage').find((r) => r.queue === 'archive-deadletter')).toMatchObject({
    id: 'arch-env-1:1',
    type: 'com.engage-bridge.deadletter',
  });
  for (const m of [...v2, ...calls]) {
    const body = m.body as { id: string; type: string; subject?: string };
    const rec = records.find((r) => r.id === body.id)!;
    expect(rec).toMatchObject({ type: body.type, message: m.text });
    if (body.subject !== undefined) expect(rec.subject).toBe(body.subject);
  }
  for (const r of records) expect(Date.parse(r.archivedAt)).toBeGreaterThanOrEqual(from.getTime());
  // Every record matches the published JSON Schema (docs/schemas/archive-record.json).
  const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
    JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'schemas', 'archive-record.json'), 'utf8')) as object,
  );
  for (const r of records)
    expect({ id: r.id, valid: validate(r), errors: validate.errors ?? null }).toEqual({ id: r.id, valid: true, errors: null });
}, 120_000);

test('archive storage down: 503 in strict mode (never 200 unarchived), 200 in best-effort mode; back up: archived', async () => {
  const container = 'archive-down';
  configure({ ARCHIVE_CONTAINER: container, ENGAGE_DECODER: 'base64-json' });
  expect((await callWebhook({ body: envelope('down-warmup') })).status).toBe(200);
  await drainQueue(conn, 'engage-desk');
  const blobPort = blobs.blobPort;
  await blobs.stop();

  const strict = await callWebhook({ body: envelope('down-strict') });
  expect(strict.status).toBe(503);

  configure({ ARCHIVE_CONTAINER: container, ENGAGE_DECODER: 'base64-json', ARCHIVE_MODE: 'best-effort' });
  expect((await callWebhook({ body: envelope('down-best-effort') })).status).toBe(200);
  const queued = (await drainQueue(conn, 'engage-desk')).map((m) => (m.body as { id: string }).id);
  expect(queued).toContain('down-best-effort:0');

  // Back up (empty: a fresh Azurite): the pusher's retry of the refused envelope is archived and answered 200.
  const from = new Date();
  blobs = await startAzurite({ blobPort });
  configure({ ARCHIVE_CONTAINER: container, ENGAGE_DECODER: 'base64-json' });
  expect((await callWebhook({ body: envelope('down-strict') })).status).toBe(200);
  const ids = (await archived(container, from)).map((r) => r.id).sort();
  expect(ids).toEqual(['down-strict:0', 'down-strict:1']);

  // ARCHIVE_MODE=off: queued, not archived.
  configure({ ARCHIVE_CONTAINER: container, ENGAGE_DECODER: 'base64-json', ARCHIVE_MODE: 'off' });
  expect((await callWebhook({ body: envelope('archive-off') })).status).toBe(200);
  expect((await archived(container, from)).map((r) => r.id)).not.toContain('archive-off:0');
}, 120_000);
