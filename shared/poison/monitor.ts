/**
 * Poison monitor (timer): makes poison messages never expire (the Functions host moves them with a
 * 7-day TTL; see keepPoisonForever), then one log line summarising every `*-poison` queue, and one
 * metric-like line per queue that an Application Insights alert can query:
 *   PoisonQueueDepth {"queue":"engage-desk-poison","sourceQueue":"engage-desk","depth":3}
 * e.g. traces | where message startswith "PoisonQueueDepth " | extend m = parse_json(substring(message, 17))
 *      | where toint(m.depth) > 0
 */
import type { InvocationContext } from '@azure/functions';
import type { QueueServiceClient } from '@azure/storage-queue';
import { getStorage, storageDeadlineMs, withDeadline } from '../storage';
import { keepPoisonForever, listPoisonQueues, type PoisonQueueDepth } from './queues';

export const POISON_METRIC = 'PoisonQueueDepth';

export function metricLine(q: PoisonQueueDepth): string {
  return `${POISON_METRIC} ${JSON.stringify({ queue: q.name, sourceQueue: q.sourceQueue, depth: q.depth })}`;
}

export async function runPoisonMonitor(context: InvocationContext, queues?: QueueServiceClient): Promise<PoisonQueueDepth[]> {
  const storage = queues ? undefined : await getStorage();
  const client = queues ?? storage!.queues;
  // Bounded: a hung storage ends this run with an error; the next run reports again.
  const deadlineMs = storage?.deadlineMs ?? storageDeadlineMs();
  const poison = await withDeadline(deadlineMs, 'poison queue depths', (signal) => listPoisonQueues(client, signal));
  for (const q of poison.filter((p) => p.depth > 0)) {
    const pinned = await withDeadline(deadlineMs, `poison TTL of ${q.name}`, (signal) => keepPoisonForever(client, q.name, signal));
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
