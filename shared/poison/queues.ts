/**
 * Poison queues: where the Functions host moves a message that failed `maxDequeueCount` times
 * (`<queue>-poison`, message text unchanged). List them, inspect, replay to their source queue, purge.
 */
import type { QueueServiceClient } from '@azure/storage-queue';
import { StorageUnavailableError, isStorageUnavailable } from '../errors';
import { DEFAULT_MESSAGE_TTL_SECONDS, NEVER_EXPIRES } from '../queue/writer';

export const POISON_SUFFIX = '-poison';
const QUEUE_NAME = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export interface PoisonPair {
  source: string;
  poison: string;
}

/** `Q` or `Q-poison` → both names; throws on a name that is not a valid queue name. */
export function poisonPair(queue: string): PoisonPair {
  const name = queue.trim();
  const source = name.endsWith(POISON_SUFFIX) ? name.slice(0, -POISON_SUFFIX.length) : name;
  const poison = `${source}${POISON_SUFFIX}`;
  if (!QUEUE_NAME.test(source) || !QUEUE_NAME.test(poison)) {
    throw new Error(`"${queue}" is not a queue name (3-63 lower-case letters, digits, single dashes; the -poison name must fit too)`);
  }
  return { source, poison };
}

export interface QueueDepth {
  name: string;
  depth: number;
}

/** Every queue of the account with its approximate depth, in name order (`abortSignal` ends it early). */
export async function listQueueDepths(queues: QueueServiceClient, abortSignal?: AbortSignal): Promise<QueueDepth[]> {
  try {
    const names: string[] = [];
    for await (const q of queues.listQueues({ abortSignal })) names.push(q.name);
    names.sort();
    return await Promise.all(
      names.map(async (name) => ({
        name,
        depth: (await queues.getQueueClient(name).getProperties({ abortSignal })).approximateMessagesCount ?? 0,
      })),
    );
  } catch (err) {
    throw wrap(err);
  }
}

export interface PoisonQueueDepth extends QueueDepth {
  sourceQueue: string;
}

/** The `*-poison` queues with their depths. */
export async function listPoisonQueues(queues: QueueServiceClient, abortSignal?: AbortSignal): Promise<PoisonQueueDepth[]> {
  return (await listQueueDepths(queues, abortSignal))
    .filter((q) => q.name.endsWith(POISON_SUFFIX))
    .map((q) => ({ ...q, sourceQueue: q.name.slice(0, -POISON_SUFFIX.length) }));
}

export interface PoisonMessage {
  messageId: string;
  insertedOn?: string;
  expiresOn?: string;
  dequeueCount: number;
  /** The body decoded as the queue trigger would (base64 → UTF-8 → JSON when it parses). */
  body: unknown;
  /** A one-line summary (CloudEvents id / type / subject, or the text's start). */
  summary: string;
}

export function decodePoisonText(messageText: string): unknown {
  const compact = messageText.replace(/\s/g, '');
  const text =
    /^[A-Za-z0-9+/]*={0,2}$/.test(compact) && compact.length % 4 === 0 ? Buffer.from(compact, 'base64').toString('utf8') : messageText;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function summarize(body: unknown): string {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    if (typeof b.type === 'string' || typeof b.id === 'string') {
      const parts = [`id=${String(b.id)}`, `type=${String(b.type)}`];
      if (b.subject !== undefined) parts.push(`subject=${typeof b.subject === 'string' ? b.subject : JSON.stringify(b.subject)}`);
      if (typeof b.claimcheck === 'string') parts.push(`claimcheck=${b.claimcheck}`);
      return parts.join(' ');
    }
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The first messages of a poison queue without changing them (the service returns at most 32). */
export async function peekPoison(
  queues: QueueServiceClient,
  queue: string,
  max = 32,
): Promise<{ pair: PoisonPair; depth: number; messages: PoisonMessage[] }> {
  const pair = poisonPair(queue);
  const client = queues.getQueueClient(pair.poison);
  try {
    if (!(await client.exists())) return { pair, depth: 0, messages: [] };
    const depth = (await client.getProperties()).approximateMessagesCount ?? 0;
    const count = Math.max(1, Math.min(32, max));
    const res = await client.peekMessages({ numberOfMessages: count });
    const messages = res.peekedMessageItems.map((m) => {
      const body = decodePoisonText(m.messageText);
      return {
        messageId: m.messageId,
        insertedOn: m.insertedOn?.toISOString(),
        expiresOn: m.expiresOn?.toISOString(),
        dequeueCount: m.dequeueCount,
        body,
        summary: summarize(body),
      };
    });
    return { pair, depth, messages };
  } catch (err) {
    throw wrap(err);
  }
}

export interface ReplayOptions {
  queue: string;
  /** At most this many messages (default: the poison depth when the replay starts). */
  max?: number;
  /** List what would be replayed, change nothing. */
  dryRun?: boolean;
  /** Called after each replayed message. */
  onProgress?: (done: number, total: number, message: { messageId: string; summary: string }) => void;
  /** How long a message being replayed stays invisible in the poison queue (s, default 60). */
  visibilityTimeoutSeconds?: number;
  /** Time-to-live of the replayed message in its source queue (s, default 7 days; QUEUE_MESSAGE_TTL_SECONDS). */
  messageTimeToLive?: number;
}

export interface ReplayResult {
  pair: PoisonPair;
  dryRun: boolean;
  /** Messages moved back (or, in a dry run, that would be). */
  replayed: number;
  /** In a dry run: the messages that would be replayed first (at most 32, the peek limit). */
  preview?: PoisonMessage[];
  /** Poison depth left afterwards (approximate). */
  remaining: number;
}

/**
 * Moves poison messages back to their source queue, unchanged: each is written to the source
 * queue first and deleted from the poison queue after, so a crash can duplicate but never lose one
 * (consumers are idempotent on the envelope id). Bounded by `max`, default the starting depth, so a
 * message that fails again and returns to poison while we run is not replayed twice.
 */
export async function replayPoison(queues: QueueServiceClient, options: ReplayOptions): Promise<ReplayResult> {
  const pair = poisonPair(options.queue);
  const poison = queues.getQueueClient(pair.poison);
  const source = queues.getQueueClient(pair.source);
  try {
    if (!(await poison.exists())) return { pair, dryRun: !!options.dryRun, replayed: 0, remaining: 0 };
    const depth = (await poison.getProperties()).approximateMessagesCount ?? 0;
    const total = Math.min(depth, options.max ?? depth);
    if (options.dryRun) {
      const { messages } = await peekPoison(queues, pair.poison, total);
      return { pair, dryRun: true, replayed: total, preview: messages.slice(0, total), remaining: depth };
    }
    if (total > 0) await source.createIfNotExists();
    let done = 0;
    while (done < total) {
      const batch = await poison.receiveMessages({
        numberOfMessages: Math.min(32, total - done),
        visibilityTimeout: options.visibilityTimeoutSeconds ?? 60,
      });
      if (batch.receivedMessageItems.length === 0) break;
      for (const m of batch.receivedMessageItems) {
        await source.sendMessage(m.messageText, { messageTimeToLive: options.messageTimeToLive ?? DEFAULT_MESSAGE_TTL_SECONDS });
        await poison.deleteMessage(m.messageId, m.popReceipt);
        done++;
        options.onProgress?.(done, total, { messageId: m.messageId, summary: summarize(decodePoisonText(m.messageText)) });
      }
    }
    const remaining = (await poison.getProperties()).approximateMessagesCount ?? 0;
    return { pair, dryRun: false, replayed: done, remaining };
  } catch (err) {
    throw wrap(err);
  }
}

/** A message sent with TTL -1 expires "never": the service reports 9999-12-31. */
function expires(m: { expiresOn?: Date }): boolean {
  return m.expiresOn !== undefined && m.expiresOn.getUTCFullYear() < 9999;
}

/**
 * Makes every message of a poison queue never expire. The Functions host in Azure moves a failed
 * message to `-poison` with the service's default time-to-live (7 days, not configurable there);
 * each such message is re-sent unchanged with TTL -1, then the original deleted (written first,
 * deleted after: a crash can duplicate one, never lose it). A queue whose messages all carry TTL -1
 * already (the first 32, peeked, when that is all there is) is left untouched. Returns how many
 * messages were re-sent.
 */
export async function keepPoisonForever(
  queues: QueueServiceClient,
  poisonQueue: string,
  abortSignal?: AbortSignal,
  max = 1000,
): Promise<number> {
  const client = queues.getQueueClient(poisonQueue);
  try {
    const depth = (await client.getProperties({ abortSignal })).approximateMessagesCount ?? 0;
    const peeked = (await client.peekMessages({ numberOfMessages: 32, abortSignal })).peekedMessageItems;
    if (depth <= peeked.length && !peeked.some(expires)) return 0;
    let seen = 0;
    let pinned = 0;
    while (seen < Math.min(depth, max)) {
      const batch = (await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30, abortSignal })).receivedMessageItems;
      if (batch.length === 0) break;
      for (const m of batch) {
        seen++;
        if (expires(m)) {
          await client.sendMessage(m.messageText, { messageTimeToLive: NEVER_EXPIRES, abortSignal });
          await client.deleteMessage(m.messageId, m.popReceipt, { abortSignal });
          pinned++;
        } else {
          await client.updateMessage(m.messageId, m.popReceipt, undefined, 0, { abortSignal }); // visible again at once
        }
      }
    }
    return pinned;
  } catch (err) {
    throw wrap(err);
  }
}

/** Deletes every message of the poison queue of `queue`; returns how many there were (approximate). */
export async function purgePoison(queues: QueueServiceClient, queue: string): Promise<{ pair: PoisonPair; purged: number }> {
  const pair = poisonPair(queue);
  const poison = queues.getQueueClient(pair.poison);
  try {
    if (!(await poison.exists())) return { pair, purged: 0 };
    const purged = (await poison.getProperties()).approximateMessagesCount ?? 0;
    await poison.clearMessages();
    return { pair, purged };
  } catch (err) {
    throw wrap(err);
  }
}

function wrap(err: unknown): unknown {
  if (!isStorageUnavailable(err) || err instanceof StorageUnavailableError) return err;
  const e = err as { code?: string; statusCode?: number };
  const why = e.statusCode ? `HTTP ${e.statusCode}` : (e.code ?? 'no answer');
  return new StorageUnavailableError(`queue storage unavailable (${why})`, { cause: err });
}
