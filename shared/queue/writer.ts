/**
 * Writes messages to Storage Queues the way the queue trigger reads them: JSON, base64-encoded.
 * - Queues are created on first use (once per process, again if deleted underneath).
 * - A message whose encoded form exceeds the 64 KiB queue limit goes to a blob (claim check); the
 *   queue carries a pointer (`claimcheck: "<container>/<blob>"`, plus the envelope attributes when
 *   the body is a CloudEvent) that `readMessageBody` resolves transparently.
 * - `sendAll` writes with bounded parallelism and resolves only when every message is stored;
 *   storage failures surface as StorageUnavailableError (callers answer 503 / retry).
 */
import type { QueueClient } from '@azure/storage-queue';
import type { ContainerClient } from '@azure/storage-blob';
import { isCloudEvent } from '../envelope';
import { StorageUnavailableError, isStorageUnavailable } from '../errors';
import { claimCheckPointerSchema, type ClaimCheckPointer } from './reader';
import type { StorageClients } from '../storage';

/** Azure Storage Queue message size limit, measured on the (base64) text sent. */
export const MAX_QUEUE_MESSAGE_BYTES = 64 * 1024;

export interface OutgoingMessage {
  queue: string;
  /** JSON-serialisable body (objects) or a string sent as-is (before base64). */
  body: unknown;
  /** Stable key naming the claim-check blob (e.g. the envelope id); random when absent. */
  key?: string;
}

export interface QueueWriterOptions {
  claimCheckContainer: string;
  /** Parallel sends in flight at most (default 32). */
  concurrency?: number;
  /** Message time-to-live in seconds (default: the service default, 7 days; -1 = never expires). */
  messageTimeToLive?: number;
}

export function encodeMessage(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return Buffer.from(text, 'utf8').toString('base64');
}

export class QueueWriter {
  private readonly queues = new Map<string, QueueClient>();
  private readonly created = new Map<string, Promise<void>>();
  private container?: Promise<ContainerClient>;
  private readonly concurrency: number;

  constructor(
    private readonly storage: StorageClients,
    private readonly options: QueueWriterOptions,
  ) {
    this.concurrency = options.concurrency ?? 32;
  }

  /** Stores one message; resolves once it is durably in its queue (or claim-check blob + queue). */
  async send(message: OutgoingMessage): Promise<void> {
    try {
      await this.sendOnce(message);
    } catch (err) {
      throw this.wrap(err, message.queue);
    }
  }

  /** Stores every message (bounded parallelism). Rejects if any could not be stored. */
  async sendAll(messages: readonly OutgoingMessage[]): Promise<void> {
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (failure === undefined && next < messages.length) {
        const m = messages[next++]!;
        try {
          await this.sendOnce(m);
        } catch (err) {
          failure ??= this.wrap(err, m.queue);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, messages.length) }, worker));
    if (failure !== undefined) throw failure;
  }

  /** Makes sure a queue exists (cached per process). */
  ensureQueue(name: string): Promise<void> {
    let p = this.created.get(name);
    if (!p) {
      p = this.queue(name)
        .createIfNotExists()
        .then(() => undefined);
      this.created.set(name, p);
      p.catch(() => this.created.delete(name));
    }
    return p;
  }

  private queue(name: string): QueueClient {
    let q = this.queues.get(name);
    if (!q) {
      q = this.storage.queues.getQueueClient(name);
      this.queues.set(name, q);
    }
    return q;
  }

  private async sendOnce(m: OutgoingMessage): Promise<void> {
    await this.ensureQueue(m.queue);
    let encoded = encodeMessage(m.body);
    if (encoded.length > MAX_QUEUE_MESSAGE_BYTES) {
      const pointer = await this.claimCheck(m);
      encoded = encodeMessage(pointer);
      // Envelope attributes themselves too large (pathological): send the bare pointer.
      if (encoded.length > MAX_QUEUE_MESSAGE_BYTES) encoded = encodeMessage({ claimcheck: pointer.claimcheck } satisfies ClaimCheckPointer);
    }
    const opts = this.options.messageTimeToLive !== undefined ? { messageTimeToLive: this.options.messageTimeToLive } : undefined;
    try {
      await this.queue(m.queue).sendMessage(encoded, opts);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      // The queue was deleted since we created it: create again, once.
      this.created.delete(m.queue);
      await this.ensureQueue(m.queue);
      await this.queue(m.queue).sendMessage(encoded, opts);
    }
  }

  private async claimCheck(m: OutgoingMessage): Promise<ClaimCheckPointer> {
    if (!this.container) {
      const c = this.storage.blobs.getContainerClient(this.options.claimCheckContainer);
      this.container = c.createIfNotExists().then(() => c);
      this.container.catch(() => (this.container = undefined));
    }
    const container = await this.container;
    const safeKey = (m.key ?? globalThis.crypto.randomUUID()).replace(/[^A-Za-z0-9._-]/g, '_');
    const blobName = `${m.queue}/${safeKey}.json`;
    const text = typeof m.body === 'string' ? m.body : JSON.stringify(m.body);
    await container.getBlockBlobClient(blobName).upload(text, Buffer.byteLength(text), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
    const claimcheck = `${this.options.claimCheckContainer}/${blobName}`;
    if (isCloudEvent(m.body)) {
      const { data: _data, ...attributes } = m.body;
      const pointer = { ...attributes, claimcheck };
      // The attribute form only when it is what the contract describes; anything else gets the bare pointer.
      if (claimCheckPointerSchema.safeParse(pointer).success) return pointer;
    }
    return { claimcheck };
  }

  private wrap(err: unknown, queue: string): unknown {
    if (isStorageUnavailable(err)) {
      return new StorageUnavailableError(`queue storage unavailable while writing to "${queue}"`, { cause: err });
    }
    return err;
  }
}
