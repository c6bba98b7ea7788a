/**
 * Writes messages to Storage Queues the way the queue trigger reads them: JSON, base64-encoded.
 * - Queues and the claim-check container are created on first use, once per process, and again
 *   (once) when a write finds them missing (deleted, or storage restarted empty).
 * - Every storage call has a deadline (ENGAGE_STORAGE_DEADLINE_MS, or the caller's signal).
 * - A message whose encoded form exceeds the 64 KiB queue limit goes to a blob (claim check); the
 *   queue carries a pointer (`claimcheck: "<container>/<blob>"`, plus the envelope attributes when
 *   the body is a CloudEvent) that `readMessageBody` resolves transparently.
 * - `sendAll` writes with bounded parallelism and resolves only when every message is stored;
 *   storage failures surface as StorageUnavailableError (callers answer 503 / retry).
 */
import type { QueueClient } from '@azure/storage-queue';
import { isCloudEvent } from '../envelope';
import { StorageUnavailableError, isStorageUnavailable } from '../errors';
import { CreateOnce, isMissing, untilAborted, withDeadline, type StorageClients } from '../storage';

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

export interface SendOptions {
  /** Ends the whole send (e.g. the webhook's deadline for its request); each call also has the storage deadline. */
  signal?: AbortSignal;
}

export function encodeMessage(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return Buffer.from(text, 'utf8').toString('base64');
}

export class QueueWriter {
  private readonly queues = new Map<string, QueueClient>();
  private readonly createdQueues: CreateOnce;
  private readonly createdContainer: CreateOnce;
  private readonly concurrency: number;

  constructor(
    private readonly storage: StorageClients,
    private readonly options: QueueWriterOptions,
  ) {
    this.concurrency = options.concurrency ?? 32;
    // Creations are shared by every send waiting for them, so they carry their own deadline.
    this.createdQueues = new CreateOnce((name) =>
      withDeadline(storage.deadlineMs, `create queue ${name}`, (abortSignal) => this.queue(name).createIfNotExists({ abortSignal })),
    );
    this.createdContainer = new CreateOnce((name) =>
      withDeadline(storage.deadlineMs, `create container ${name}`, (abortSignal) => storage.blobs.getContainerClient(name).createIfNotExists({ abortSignal })),
    );
  }

  /** Stores one message; resolves once it is durably in its queue (or claim-check blob + queue). */
  async send(message: OutgoingMessage, options: SendOptions = {}): Promise<void> {
    try {
      await this.sendOnce(message, options.signal);
    } catch (err) {
      throw this.wrap(err, message.queue);
    }
  }

  /** Stores every message (bounded parallelism). Rejects if any could not be stored. */
  async sendAll(messages: readonly OutgoingMessage[], options: SendOptions = {}): Promise<void> {
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (failure === undefined && next < messages.length) {
        const m = messages[next++]!;
        try {
          await this.sendOnce(m, options.signal);
        } catch (err) {
          failure ??= this.wrap(err, m.queue);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, messages.length) }, worker));
    if (failure !== undefined) throw failure;
  }

  /** Makes sure a queue exists (once per process, again after a send found it missing). */
  ensureQueue(name: string): Promise<void> {
    return this.createdQueues.ensure(name);
  }

  private queue(name: string): QueueClient {
    let q = this.queues.get(name);
    if (!q) {
      q = this.storage.queues.getQueueClient(name);
      this.queues.set(name, q);
    }
    return q;
  }

  private async sendOnce(m: OutgoingMessage, signal: AbortSignal | undefined): Promise<void> {
    let encoded = encodeMessage(m.body);
    if (encoded.length > MAX_QUEUE_MESSAGE_BYTES) {
      const pointer = await this.claimCheck(m, signal);
      encoded = encodeMessage(pointer);
      // Envelope attributes themselves too large (pathological): send the bare pointer.
      if (encoded.length > MAX_QUEUE_MESSAGE_BYTES) encoded = encodeMessage({ claimcheck: (pointer as { claimcheck: string }).claimcheck });
    }
    const ttl = this.options.messageTimeToLive !== undefined ? { messageTimeToLive: this.options.messageTimeToLive } : {};
    await this.withCreated(this.createdQueues, m.queue, 'QueueNotFound', signal, (abortSignal) =>
      this.queue(m.queue).sendMessage(encoded, { ...ttl, abortSignal }),
    );
  }

  /**
   * Waits for `name` to exist, then runs `call` with the deadline. When the call finds it missing
   * (deleted since, or storage restarted empty), creates it again and retries once.
   */
  private async withCreated(
    created: CreateOnce,
    name: string,
    missing: 'QueueNotFound' | 'ContainerNotFound',
    signal: AbortSignal | undefined,
    call: (abortSignal: AbortSignal) => Promise<unknown>,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const ready = created.ensure(name);
      await untilAborted(ready, signal, `create ${name}`);
      try {
        await withDeadline(this.storage.deadlineMs, `write to ${name}`, call, signal);
        return;
      } catch (err) {
        if (attempt > 1 || !isMissing(err, missing)) throw err;
        created.forget(name, ready);
      }
    }
  }

  private async claimCheck(m: OutgoingMessage, signal: AbortSignal | undefined): Promise<unknown> {
    const containerName = this.options.claimCheckContainer;
    const container = this.storage.blobs.getContainerClient(containerName);
    const safeKey = (m.key ?? globalThis.crypto.randomUUID()).replace(/[^A-Za-z0-9._-]/g, '_');
    const blobName = `${m.queue}/${safeKey}.json`;
    const text = typeof m.body === 'string' ? m.body : JSON.stringify(m.body);
    await this.withCreated(this.createdContainer, containerName, 'ContainerNotFound', signal, (abortSignal) =>
      container.getBlockBlobClient(blobName).upload(text, Buffer.byteLength(text), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
        abortSignal,
      }),
    );
    const pointer = `${containerName}/${blobName}`;
    if (isCloudEvent(m.body)) {
      const { data: _data, ...attributes } = m.body;
      return { ...attributes, claimcheck: pointer };
    }
    return { claimcheck: pointer };
  }

  private wrap(err: unknown, queue: string): unknown {
    if (isStorageUnavailable(err)) {
      return new StorageUnavailableError(`queue storage unavailable while writing to "${queue}"`, { cause: err });
    }
    return err;
  }
}
