#!/usr/bin/env node
/**
 * `npm run bench:pause`: how the webhook answers while storage hangs. Starts Azurite and the local
 * host (its own process, only the webhook enabled, as in `npm run bench`), warms up, freezes Azurite (SIGSTOP: connections open, no answers), sends N pushes (C at a
 * time) and prints the answer-time distribution (p50 / p99 / max) and the statuses; then resumes
 * Azurite, sends every push that was not stored again (as a pusher retries) and counts the
 * envelope ids that never landed (lost) or landed twice (duplicates, same envelope id).
 *
 * Options: --pushes <N> (100) --connections <C> (50) --deadline <ms> (ENGAGE_STORAGE_DEADLINE_MS, 10000)
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite } from '../local/azurite';
import { encodeBase64Json } from '../shared/engage/decoder';
import { distFile, startService } from './processes';
import { hostSettings } from './webhookBench';

/** A queue no consumer reads, so the count of what landed is exact. */
const QUEUE = 'bench-storage-pause';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pushes: { type: 'string', default: '100' },
      connections: { type: 'string', default: '50' },
      deadline: { type: 'string', default: '10000' },
    },
  });
  const pushes = Number(values.pushes);
  const connections = Number(values.connections);
  const deadlineMs = Number(values.deadline);
  if (![pushes, connections, deadlineMs].every((n) => Number.isInteger(n) && n > 0))
    throw new Error('--pushes, --connections and --deadline take positive integers');

  const azurite = await startAzurite();
  const functionKey = randomBytes(24).toString('base64url');
  const host = await startService(
    distFile('local/host/main.js'),
    ['--port', '0'],
    {
      ...process.env,
      ...hostSettings(azurite.connectionString, functionKey, randomBytes(24).toString('base64url')),
      ENGAGE_SIGNATURE_MODE: 'off',
      ENGAGE_ROUTES: JSON.stringify([{ eventTypes: ['DESK'], queue: QUEUE }]),
      ENGAGE_STORAGE_DEADLINE_MS: String(deadlineMs),
    },
    /^Host listening on (\S+)/,
  );
  const push = async (id: string): Promise<{ status: number; ms: number }> => {
    const payload = [{ Date: '2026-11-24T00:00:00', BookingID: 1, ResourceItemID: 302, Action: 1, UntilFurtherNotice: false }];
    const body = JSON.stringify({ Id: id, Attempt: 1, Notifications: [{ Action: 'DESK', DynamicParamA: encodeBase64Json(payload) }] });
    const started = performance.now();
    const res = await fetch(`${host.ready}/api/engage/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': functionKey },
      body,
    });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started };
  };
  try {
    for (let i = 0; i < 10; i++) if ((await push(`warmup-${i}`)).status !== 200) throw new Error('warm-up push not stored');

    azurite.pause();
    const ids = Array.from({ length: pushes }, (_, i) => `paused-${i}`);
    const answers: { id: string; status: number; ms: number }[] = [];
    let next = 0;
    const pausedAt = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(connections, pushes) }, async () => {
        while (next < ids.length) {
          const id = ids[next++];
          answers.push({ id, ...(await push(id)) });
        }
      }),
    );
    const pausedFor = performance.now() - pausedAt;
    azurite.resume();

    const times = answers.map((a) => a.ms).sort((a, b) => a - b);
    const at = (p: number) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)];
    const statuses = new Map<number, number>();
    for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);

    // The sender's retries after the resume.
    for (const a of answers.filter((x) => x.status !== 200)) {
      for (let attempt = 0; (await push(a.id)).status !== 200; attempt++) {
        if (attempt >= 20) throw new Error(`push ${a.id} was never stored after the resume`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const queue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(QUEUE);
    const landed: string[] = [];
    for (;;) {
      const batch = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
      if (batch.receivedMessageItems.length === 0) break;
      for (const m of batch.receivedMessageItems)
        landed.push((JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as { id: string }).id);
    }
    const seen = new Set(landed.filter((id) => id.startsWith('paused-')));
    const lost = ids.filter((id) => !seen.has(`${id}:0`)).length;
    const duplicates = landed.filter((id) => id.startsWith('paused-')).length - seen.size;

    const f = (ms: number) => `${Math.round(ms)} ms`;
    console.log(
      `webhook answers with storage paused (ENGAGE_STORAGE_DEADLINE_MS=${deadlineMs}, ${pushes} pushes, ${connections} at a time, paused ${f(pausedFor)}):`,
    );
    console.log(`  statuses: ${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')}`);
    console.log(`  answer time: p50 ${f(at(50))}, p99 ${f(at(99))}, max ${f(times.at(-1)!)} (min ${f(times[0])})`);
    console.log(`  after the resume and the retries: lost ${lost}, duplicates ${duplicates} (same envelope id)`);
  } finally {
    azurite.resume();
    await host.stop();
    await azurite.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
