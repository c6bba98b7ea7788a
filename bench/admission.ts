#!/usr/bin/env node
/**
 * `npm run build && node dist/bench/admission.js`: big envelopes under concurrency (issue 20: 8 × 1,000).
 * Starts Azurite and the local host (its own process, only the webhook), then sends `--rounds` rounds of
 * `--envelopes` concurrent envelopes of `--notifications` notifications each (no retries), and counts the
 * answers (200 / 503), the envelopes answered 503 with some of their messages already written
 * (half-written), and the envelopes accepted per second of wall time.
 *
 * Options: --envelopes 8 --notifications 1000 --rounds 3 --budget <ENGAGE_WEBHOOK_MAX_IN_FLIGHT_MESSAGES>
 *          --deadline <ENGAGE_STORAGE_DEADLINE_MS> --host <path of local/host/main.js> (e.g. an older build, for a before/after)
 */
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite } from '../local/azurite';
import { encodeBase64Json } from '../shared/engage/decoder';
import { distFile, startService } from './processes';
import { hostSettings } from './webhookBench';

/** A queue no consumer reads, so the count of what landed is exact. */
const QUEUE = 'bench-admission';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      envelopes: { type: 'string', default: '8' },
      notifications: { type: 'string', default: '1000' },
      rounds: { type: 'string', default: '3' },
      budget: { type: 'string' },
      deadline: { type: 'string' },
      host: { type: 'string' },
    },
  });
  const envelopes = Number(values.envelopes);
  const notifications = Number(values.notifications);
  const rounds = Number(values.rounds);
  if (![envelopes, notifications, rounds].every((n) => Number.isInteger(n) && n > 0))
    throw new Error('--envelopes, --notifications and --rounds take positive integers');

  const azurite = await startAzurite();
  const functionKey = randomBytes(24).toString('base64url');
  const host = await startService(
    values.host ?? distFile('local/host/main.js'),
    ['--port', '0'],
    {
      ...process.env,
      ...hostSettings(azurite.connectionString, functionKey, randomBytes(24).toString('base64url')),
      ENGAGE_SIGNATURE_MODE: 'off',
      ENGAGE_ROUTES: JSON.stringify([{ eventTypes: ['DESK'], queue: QUEUE }]),
      ...(values.budget ? { ENGAGE_WEBHOOK_MAX_IN_FLIGHT_MESSAGES: values.budget } : {}),
      ...(values.deadline ? { ENGAGE_STORAGE_DEADLINE_MS: values.deadline } : {}),
    },
    /^Host listening on (\S+)/,
    // An older build's host runs that build's app (its project root holds package.json and dist/).
    values.host ? { cwd: resolve(dirname(values.host), '..', '..', '..') } : {},
  );
  const payload = encodeBase64Json([
    { Date: '2026-11-24T00:00:00', BookingID: 1, ResourceItemID: 302, Action: 1, UntilFurtherNotice: false },
  ]);
  const push = async (id: string, n: number): Promise<{ id: string; status: number; ms: number }> => {
    const body = JSON.stringify({
      Id: id,
      Attempt: 1,
      Notifications: Array.from({ length: n }, () => ({ Action: 'DESK', DynamicParamA: payload })),
    });
    const started = performance.now();
    const res = await fetch(`${host.ready}/api/engage/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': functionKey },
      body,
    });
    await res.arrayBuffer();
    return { id, status: res.status, ms: performance.now() - started };
  };
  try {
    for (let i = 0; i < 3; i++) if ((await push(`warmup-${i}`, 100)).status !== 200) throw new Error('warm-up push not stored');
    const answers: { id: string; status: number; ms: number }[] = [];
    const started = performance.now();
    for (let r = 0; r < rounds; r++)
      answers.push(...(await Promise.all(Array.from({ length: envelopes }, (_, e) => push(`r${r}-e${e}`, notifications)))));
    const seconds = (performance.now() - started) / 1000;

    const queue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(QUEUE);
    const landed = new Map<string, number>();
    for (;;) {
      const batch = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 3600 });
      if (batch.receivedMessageItems.length === 0) break;
      for (const m of batch.receivedMessageItems) {
        const envelopeId = (JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as { id: string }).id.split(':')[0];
        landed.set(envelopeId, (landed.get(envelopeId) ?? 0) + 1);
      }
    }
    const by = (s: number) => answers.filter((a) => a.status === s);
    const halfWritten = by(503).filter((a) => (landed.get(a.id) ?? 0) > 0);
    const incomplete200 = by(200).filter((a) => (landed.get(a.id) ?? 0) !== notifications).length;
    const f = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `admission: ${rounds} round(s) of ${envelopes} concurrent envelopes × ${notifications} notifications (${values.host ?? 'this build'}), ${seconds.toFixed(1)} s`,
    );
    console.log(
      `  answered 200: ${by(200).length} (answer time max ${f(Math.max(0, ...by(200).map((a) => a.ms)))}), 503: ${by(503).length} (answer time min ${f(Math.min(...by(503).map((a) => a.ms), Infinity))}), other: ${answers.length - by(200).length - by(503).length}`,
    );
    console.log(
      `  half-written at 503: ${halfWritten.length} envelope(s), ${halfWritten.reduce((s, a) => s + (landed.get(a.id) ?? 0), 0)} message(s) already written; 200 with a message missing: ${incomplete200}`,
    );
    console.log(
      `  accepted: ${(by(200).length / seconds).toFixed(2)} envelopes/s (${((by(200).length * notifications) / seconds).toFixed(0)} messages/s)`,
    );
  } finally {
    await host.stop();
    await azurite.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
