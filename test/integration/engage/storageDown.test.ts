/**
 * Storage down: the webhook answers 503, the sandbox pusher retries (ASP.NET WebHooks +1 min / +4 min,
 * scaled) once Azurite is back, and every envelope id lands exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { startEngageSandbox, type EngageSandbox } from '../../../local/sandbox/engage/engageSandbox';
import { drainQueue, waitFor } from '../../helpers/queues';
import { configureWebhook } from './env';
import { serveWebhook, type ServedWebhook } from './serveWebhook';

let dir: string;
let azurite: RunningAzurite;
let sandbox: EngageSandbox;
let webhook: ServedWebhook;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'engage-storage-down-'));
  azurite = await startAzurite({ location: dir });
  configureWebhook(azurite.connectionString, {
    ENGAGE_DECODER: 'base64-json',
    ENGAGE_SIGNATURE_MODE: 'enforce',
    ENGAGE_WEBHOOK_SECRET: 'listener-secret',
  });
  webhook = await serveWebhook();
  // 1 min → 1.5 s, 4 min → 6 s: the third attempt comes well after Azurite is back.
  sandbox = await startEngageSandbox({
    timeScale: 0.025,
    listeners: [{ secretkey: 'listener-secret', eventTypes: [2, 3], notificationUrl: webhook.url, queueProvider: 3 }],
  });
});

afterAll(async () => {
  await sandbox?.stop();
  await webhook?.stop();
  await azurite?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('503 while storage is down, then the pusher retry lands each envelope id exactly once', async () => {
  // Warm up: queues exist and the happy path works.
  await sandbox.push([{ action: 'DESK' }]);
  await sandbox.idle();
  expect(await drainQueue(azurite.connectionString, 'engage-desk')).toHaveLength(1);

  await azurite.stop();
  const ids = await sandbox.push([{ action: 'DESK' }, { action: 'MEETINGEXTERNAL' }]);
  expect(ids).toHaveLength(1); // one envelope (one listener URL) holding both notifications
  const envelopeId = ids[0];
  await waitFor(
    () => sandbox.deliveries().some((d) => d.envelopeId === envelopeId && d.attempt === 1 && d.status !== undefined),
    'first attempt answered',
    20_000,
    50,
  );
  expect(sandbox.deliveries().find((d) => d.envelopeId === envelopeId && d.attempt === 1)!.status).toBe(503);

  azurite = await startAzurite({ location: dir, blobPort: azurite.blobPort, queuePort: azurite.queuePort });
  await sandbox.idle();

  const attempts = sandbox.deliveries().filter((d) => d.envelopeId === envelopeId);
  expect(attempts.length).toBeGreaterThanOrEqual(2);
  expect(attempts.at(-1)!.status).toBe(200);
  expect(attempts.slice(0, -1).every((d) => d.status === 503)).toBe(true);
  const desk = (await drainQueue(azurite.connectionString, 'engage-desk')).map((m) => (m.body as { id: string }).id);
  const meeting = (await drainQueue(azurite.connectionString, 'engage-meetingexternal')).map((m) => (m.body as { id: string }).id);
  expect(desk).toEqual([`${envelopeId}:0`]);
  expect(meeting).toEqual([`${envelopeId}:1`]);
  expect(webhook.statuses).not.toContain(500);
});
