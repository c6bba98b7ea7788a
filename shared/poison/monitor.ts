/**
 * Poison monitor (timer): makes poison messages never expire (the Functions host moves them with a
 * 7-day TTL; see keepPoisonForever), records the OpenTelemetry gauges `engage_bridge.poison.depth`
 * (per `*-poison` queue) and `engage_bridge.queue.depth` (every other queue), which the Azure alert
 * and the workbook query (infra/modules/alerts.bicep, workbook.bicep), and logs one line summarising
 * the poison queues and one readable line per poison queue:
 *   PoisonQueueDepth {"queue":"engage-desk-poison","sourceQueue":"engage-desk","depth":3}
 */
import { setMaxListeners } from 'node:events';
import type { InvocationContext } from '@azure/functions';
import type { QueueServiceClient } from '@azure/storage-queue';
import { getStorage, storageDeadlineMs, withDeadline } from '../storage';
import { record } from '../telemetry';
import { keepPoisonForever, listQueueDepths, POISON_SUFFIX, type PoisonQueueDepth } from './queues';

export const POISON_METRIC = 'PoisonQueueDepth';

export function metricLine(q: PoisonQueueDepth): string {
  return `${POISON_METRIC} ${JSON.stringify({ queue: q.name, sourceQueue: q.sourceQueue, depth: q.depth })}`;
}

export async function runPoisonMonitor(context: InvocationContext, queues?: QueueServiceClient): Promise<PoisonQueueDepth[]> {
  const storage = queues ? undefined : await getStorage();
  const client = queues ?? storage!.queues;
  // Bounded: a hung storage ends this run with an error; the next run reports again.
  const deadlineMs = storage?.deadlineMs ?? storageDeadlineMs();
  const depths = await withDeadline(deadlineMs, 'poison queue depths', (signal) => {
    // One deadline for the whole listing: every queue's read listens on it (more than Node's default of 10).
    setMaxListeners(0, signal);
    return listQueueDepths(client, signal);
  });
  const poison: PoisonQueueDepth[] = [];
  for (const q of depths) {
    if (q.name.endsWith(POISON_SUFFIX)) {
      const sourceQueue = q.name.slice(0, -POISON_SUFFIX.length);
      poison.push({ ...q, sourceQueue });
      record('poisonDepth', q.depth, { queue: q.name, source_queue: sourceQueue });
    } else {
      record('queueDepth', q.depth, { queue: q.name });
    }
  }
  for (const q of poison.filter((p) => p.depth > 0)) {
    const pinned = await withDeadline(deadlineMs, `poison TTL of ${q.name}`, (signal) => {
      setMaxListeners(0, signal);
      return keepPoisonForever(client, q.name, signal);
    });
    if (pinned > 0) context.log(`poison monitor: ${pinned} message(s) of ${q.name} re-sent with TTL -1 (never expire)`);
  }
  const total = poison.reduce((sum, q) => sum + q.depth, 0);
  for (const q of poison) context.log(metricLine(q));
  const detail = poison.map((q) => `${q.name}=${q.depth}`).join(', ');
  const summary = `poison monitor: ${poison.length} poison queue(s), ${total} message(s)${detail ? `: ${detail}` : ''}`;
  if (total > 0) context.warn(summary);
  else context.log(summary);
  return poison;
}
