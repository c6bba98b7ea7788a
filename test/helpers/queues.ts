/** Test helpers over real Azurite queues and blobs (never mocks). */
import { QueueServiceClient } from '@azure/storage-queue';

export interface DecodedMessage {
  id: string;
  dequeueCount: number;
  /** The body decoded from base64 and parsed as JSON when possible. */
  body: unknown;
  text: string;
}

/** Decodes a queue message text as the queue trigger would (base64 → UTF-8 → JSON if parseable). */
export function decodeMessageText(messageText: string): { text: string; body: unknown } {
  const text = Buffer.from(messageText, 'base64').toString('utf8');
  try {
    return { text, body: JSON.parse(text) };
  } catch {
    return { text, body: text };
  }
}

/** Receives (and deletes) every message currently in a queue; [] when the queue does not exist. */
export async function drainQueue(connectionString: string, queue: string): Promise<DecodedMessage[]> {
  const q = QueueServiceClient.fromConnectionString(connectionString).getQueueClient(queue);
  if (!(await q.exists())) return [];
  const out: DecodedMessage[] = [];
  for (;;) {
    const res = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
    if (res.receivedMessageItems.length === 0) break;
    for (const m of res.receivedMessageItems) {
      out.push({ id: m.messageId, dequeueCount: m.dequeueCount, ...decodeMessageText(m.messageText) });
      await q.deleteMessage(m.messageId, m.popReceipt);
    }
  }
  return out;
}

/** Approximate number of messages in a queue (0 when it does not exist). */
export async function queueDepth(connectionString: string, queue: string): Promise<number> {
  const q = QueueServiceClient.fromConnectionString(connectionString).getQueueClient(queue);
  if (!(await q.exists())) return 0;
  return (await q.getProperties()).approximateMessagesCount ?? 0;
}

/** Polls `check` until it returns a truthy value or the timeout passes (then throws with `what`). */
export async function waitFor<T>(check: () => Promise<T> | T, what: string, timeoutMs = 20_000, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
