/**
 * Writes messages as the queue trigger reads them (JSON, base64). Non-obvious rules:
 * - a body over the 64 KiB queue limit, or one a consumer would mistake for a pointer (a top-level
 *   `claimcheck` field), goes to a claim-check blob written once (`If-None-Match: *`): a retry reuses
 *   it, different content under the same key gets a fresh name, nothing is overwritten;
 * - queues and the container are created once per process and again when a write finds them missing;
 * - `sendAll` resolves only when every message is stored; storage failures become StorageUnavailableError (503 / retry);
 * - with `archive` (ARCHIVE_MODE strict / best-effort, shared/archive/) each message is also appended to the
 *   event archive, concurrently with its queue write; in strict mode a message counts as stored only when both are.
 */
import { getMaxListeners, setMaxListeners } from 'node:events';
import type { QueueClient } from '@azure/storage-queue';
import type { ContainerClient } from '@azure/storage-blob';
import { isCloudEvent } from '../envelope';
import { CLAIM_CHECK_MARKER, claimCheckBlobName, claimCheckMetadata, looksLikeClaimCheck, sha256 } from './claimCheck';
import { StorageUnavailableError, isStorageUnavailable } from '../errors';
import { CreateOnce, isMissing, untilAborted, withDeadline, type StorageClients } from '../storage';
import type { Config } from '../config/settings';
import { count, inSpan, SpanKind, traceCarrier, type TraceCarrier } from '../telemetry';
import { ArchiveWriter, type RecordInput } from '../archive/writer';
import type { ArchiveSource } from '../archive/record';
import type { ArchiveMode } from '../config/archive';

/** Azure Storage Queue message size limit, measured on the (base64) text sent. */
export const MAX_QUEUE_MESSAGE_BYTES = 64 * 1024;

export interface OutgoingMessage {
  queue: string;
  /** JSON-serialisable body (objects) or a string sent as-is (before base64). */
  body: unknown;
  /** `messageText(body)` when the caller serialised it already (so nothing can fail after the first write). */
  text?: string;
  /** Stable key naming the claim-check blob (e.g. the envelope id); random when absent. */
  key?: string;
  /** The event a raw (not CloudEvents) body carries, for the archive (a CloudEvents body speaks for itself). */
  about?: { id: string; source?: string; type?: string; subject?: string; time?: string };
}

export interface QueueWriterOptions {
  claimCheckContainer: string;
  /** Parallel sends in flight at most (default 32). */
  concurrency?: number;
  /** Time-to-live of messages in the main queues, in seconds (default 7 days, as Azure's; -1 = never expires). */
  messageTimeToLive?: number;
  /** Queues whose messages never expire (the dead-letter queue); `<queue>-poison` queues never expire either. */
  neverExpire?: readonly string[];
  /** Also keep every message in the event archive (absent: not archived, e.g. replays and tools). */
  archive?: QueueWriterArchiveOptions;
}

export interface QueueWriterArchiveOptions {
  mode: Exclude<ArchiveMode, 'off'>;
  container: string;
  source: ArchiveSource;
  /** Instance name in blob names (default: host + random). */
  instance?: string;
}

/** Azure's default message time-to-live (7 days), sent explicitly. */
export const DEFAULT_MESSAGE_TTL_SECONDS = 7 * 24 * 3600;
/** `messageTimeToLive` of a message that never expires (poison and dead-letter queues). */
export const NEVER_EXPIRES = -1;

/** The options every producer of the app writes with (claim-check container, explicit TTLs). */
export function writerOptions(
  config: Pick<Config, 'CLAIM_CHECK_CONTAINER' | 'QUEUE_MESSAGE_TTL_SECONDS' | 'DEADLETTER_QUEUE'> &
    Partial<Pick<Config, 'ARCHIVE_MODE' | 'ARCHIVE_CONTAINER'>>,
  concurrency?: number,
  /** The input writing (its messages are archived under it, per ARCHIVE_MODE); absent: not archived. */
  archiveSource?: ArchiveSource,
): QueueWriterOptions {
  const mode = config.ARCHIVE_MODE ?? 'off';
  return {
    claimCheckContainer: config.CLAIM_CHECK_CONTAINER,
    messageTimeToLive: config.QUEUE_MESSAGE_TTL_SECONDS,
    neverExpire: [config.DEADLETTER_QUEUE],
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(archiveSource && mode !== 'off' && config.ARCHIVE_CONTAINER
      ? { archive: { mode, container: config.ARCHIVE_CONTAINER, source: archiveSource } }
      : {}),
  };
}

/** A body a consumer would read as a claim-check pointer: an object (or the JSON text of one) with a top-level `claimcheck`. */
function mistakenForPointer(body: unknown): boolean {
  if (typeof body !== 'string') return looksLikeClaimCheck(body);
  if (!body.includes('claimcheck')) return false;
  try {
    return looksLikeClaimCheck(JSON.parse(body));
  } catch {
    return false;
  }
}

/** What the archive files a message under: its CloudEvents attributes, or its key for a raw body. */
function archiveAttributes(m: OutgoingMessage): Pick<RecordInput, 'id' | 'eventSource' | 'type' | 'subject' | 'time' | 'queue'> {
  const body = m.body;
  if (isCloudEvent(body)) {
    return {
      id: body.id,
      eventSource: body.source,
      type: body.type,
      ...(body.subject !== undefined ? { subject: body.subject } : {}),
      time: body.time,
      queue: m.queue,
    };
  }
  const about = m.about;
  return {
    id: about?.id ?? m.key ?? 'unknown',
    ...(about?.source !== undefined ? { eventSource: about.source } : {}),
    ...(about?.type !== undefined ? { type: about.type } : {}),
    ...(about?.subject !== undefined ? { subject: about.subject } : {}),
    ...(about?.time !== undefined ? { time: about.time } : {}),
    queue: m.queue,
  };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export interface SendOptions {
  /** Ends the whole send (e.g. the webhook's deadline for its request); each call also has the storage deadline. */
  signal?: AbortSignal;
}

/** The text a body is stored as: a string as is, anything else as JSON. */
export function messageText(body: unknown): string {
  return typeof body === 'string' ? body : JSON.stringify(body);
}

export function encodeMessage(body: unknown): string {
  return Buffer.from(messageText(body), 'utf8').toString('base64');
}

/** The message with the trace context as CloudEvents attributes (a copy; raw bodies unchanged). */
function withTraceContext(m: OutgoingMessage, carrier: TraceCarrier | undefined): OutgoingMessage {
  if (!carrier || !isCloudEvent(m.body)) return m;
  const { traceparent: _p, tracestate: _s, ...event } = m.body;
  // A text serialised beforehand lacks the trace context: the stamped body (serialisable, as that text shows) is written instead.
  const { text: _text, ...message } = m;
  return { ...message, body: { ...event, ...carrier } };
}

/** One PRODUCER span around writing `messages`, which then carry its context. */
function producing(messages: readonly OutgoingMessage[], write: (stamped: readonly OutgoingMessage[]) => Promise<void>): Promise<void> {
  const queues = [...new Set(messages.map((m) => m.queue))];
  const attributes = {
    'messaging.system': 'azure_storage_queues',
    'messaging.operation.type': 'send',
    'messaging.batch.message_count': messages.length,
    'messaging.destination.name': queues.join(','),
  };
  return inSpan(queues.length === 1 ? `send ${queues[0]}` : 'send', { kind: SpanKind.PRODUCER, attributes }, async () => {
    const carrier = traceCarrier();
    await write(carrier ? messages.map((m) => withTraceContext(m, carrier)) : messages);
  });
}

export class QueueWriter {
  private readonly queues = new Map<string, QueueClient>();
  private readonly createdQueues: CreateOnce;
  private readonly createdContainer: CreateOnce;
  private readonly concurrency: number;
  /** The event archive this writer appends to (undefined when not archiving). */
  readonly archive: ArchiveWriter | undefined;
  private archiveWarnedAt = 0;
  private archiveFailuresUnlogged = 0;

  constructor(
    private readonly storage: StorageClients,
    private readonly options: QueueWriterOptions,
  ) {
    this.concurrency = options.concurrency ?? 32;
    this.archive = options.archive
      ? new ArchiveWriter(storage.blobs, storage.deadlineMs, {
          container: options.archive.container,
          source: options.archive.source,
          ...(options.archive.instance ? { instance: options.archive.instance } : {}),
        })
      : undefined;
    // Creations are shared by every send waiting for them, so they carry their own deadline.
    this.createdQueues = new CreateOnce((name) =>
      withDeadline(storage.deadlineMs, `create queue ${name}`, (abortSignal) => this.queue(name).createIfNotExists({ abortSignal })),
    );
    this.createdContainer = new CreateOnce((name) =>
      withDeadline(storage.deadlineMs, `create container ${name}`, (abortSignal) =>
        storage.blobs.getContainerClient(name).createIfNotExists({ abortSignal }),
      ),
    );
  }

  /** Stores one message; resolves once it is durably in its queue (or claim-check blob + queue). */
  async send(message: OutgoingMessage, options: SendOptions = {}): Promise<void> {
    await this.sendAll([message], options);
  }

  /** Stores every message (bounded parallelism). Rejects if any could not be stored. */
  async sendAll(messages: readonly OutgoingMessage[], options: SendOptions = {}): Promise<void> {
    if (messages.length === 0) return;
    // Each concurrent write listens on the caller's signal until it settles, up to three times (our deadline wait and
    // the SDK's own listeners, since a request's deadline is passed through as it is): up to ~3 × concurrency listeners
    // by design, which is not the leak Node warns about.
    const { signal } = options;
    if (signal && getMaxListeners(signal) < 3 * this.concurrency + 8) setMaxListeners(3 * this.concurrency + 8, signal);
    await producing(messages, (stamped) => this.sendEach(stamped, options));
  }

  private async sendEach(messages: readonly OutgoingMessage[], options: SendOptions): Promise<void> {
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (failure === undefined && next < messages.length) {
        const m = messages[next++];
        try {
          await this.sendOnce(m, options.signal);
          count('messagesWritten', 1, { queue: m.queue });
        } catch (err) {
          failure ??= this.wrap(err, m.queue);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, messages.length) }, worker));
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the SDK threw (or its StorageUnavailableError)
    if (failure !== undefined) throw failure;
  }

  /** Makes sure a queue exists (once per process, again after a send found it missing). */
  ensureQueue(name: string): Promise<void> {
    return this.createdQueues.ensure(name);
  }

  /** Explicit TTL of every message: never for poison / dead-letter queues, the setting otherwise. */
  timeToLive(queue: string): number {
    if (queue.endsWith('-poison') || this.options.neverExpire?.includes(queue)) return NEVER_EXPIRES;
    return this.options.messageTimeToLive ?? DEFAULT_MESSAGE_TTL_SECONDS;
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
    const text = m.text ?? messageText(m.body);
    let encoded = encodeMessage(text);
    let claimed: { claimcheck: string } | undefined;
    if (encoded.length > MAX_QUEUE_MESSAGE_BYTES || mistakenForPointer(m.body)) {
      claimed = await this.claimCheck(m, signal);
      encoded = encodeMessage(claimed);
      // Envelope attributes themselves too large (pathological): send the bare pointer.
      if (encoded.length > MAX_QUEUE_MESSAGE_BYTES)
        encoded = encodeMessage({ claimcheck: claimed.claimcheck, claimcheckby: CLAIM_CHECK_MARKER });
    }
    const ttl = { messageTimeToLive: this.timeToLive(m.queue) };
    const queued = this.withCreated(this.createdQueues, m.queue, 'QueueNotFound', signal, (abortSignal) =>
      this.queue(m.queue).sendMessage(encoded, { ...ttl, abortSignal }),
    );
    if (!this.archive) return queued;
    await Promise.all([queued, this.archived(m, text, encoded, claimed, signal)]);
  }

  /** Appends the message to the archive (strict: rejects when that fails; best-effort: logs and resolves). */
  private async archived(
    m: OutgoingMessage,
    text: string,
    encoded: string,
    claimed: { claimcheck: string } | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const archive = this.archive!;
    const attributes = archiveAttributes(m);
    const record: RecordInput = { ...attributes, message: text, ...(claimed ? { claimcheck: claimed.claimcheck } : {}) };
    // Too large for one append block: the pointer as queued stands for the body (kept in the claim-check blob).
    const fallback = (): RecordInput => ({
      ...attributes,
      ...(claimed ? { claimcheck: claimed.claimcheck } : {}),
      pointer: Buffer.from(encoded, 'base64').toString('utf8'),
    });
    const appended = archive.append(record, fallback);
    try {
      await untilAborted(appended, signal, `archive ${m.queue}`);
    } catch (err) {
      if (this.options.archive?.mode === 'strict') throw err;
      count('archiveFailures', 1, { queue: m.queue });
      // One line per 10 s at most (with how many since): an archive outage must not flood the log.
      this.archiveFailuresUnlogged++;
      if (Date.now() - this.archiveWarnedAt >= 10_000) {
        console.warn(
          `archive: ${this.archiveFailuresUnlogged} message(s) queued but not archived (ARCHIVE_MODE=best-effort), e.g. ${m.key ?? '?'} to ${m.queue}: ${(err as Error).message}`,
        );
        this.archiveWarnedAt = Date.now();
        this.archiveFailuresUnlogged = 0;
      }
    }
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
      if (!created.isCreated(name)) await untilAborted(ready, signal, `create ${name}`);
      try {
        await withDeadline(this.storage.deadlineMs, `write to ${name}`, call, signal);
        return;
      } catch (err) {
        if (attempt > 1 || !isMissing(err, missing)) throw err;
        created.forget(name, ready);
      }
    }
  }

  private async claimCheck(m: OutgoingMessage, signal: AbortSignal | undefined): Promise<{ claimcheck: string }> {
    const containerName = this.options.claimCheckContainer;
    const container = this.storage.blobs.getContainerClient(containerName);
    // The blob holds JSON: a string body is stored as its JSON text when it is JSON, else as a JSON string.
    const text = typeof m.body === 'string' ? (isJson(m.body) ? m.body : JSON.stringify(m.body)) : JSON.stringify(m.body);
    const hash = sha256(text);
    let blobName = claimCheckBlobName(m.queue, m.key ?? globalThis.crypto.randomUUID());
    if (!(await this.writeOnce(container, blobName, text, hash, signal))) {
      // The same key with other content (e.g. a pusher retry stamped with a new time): a fresh name, never an overwrite.
      blobName = claimCheckBlobName(m.queue, `${m.key ?? ''}#${globalThis.crypto.randomUUID()}`);
      if (!(await this.writeOnce(container, blobName, text, hash, signal)))
        throw new Error(`claim-check blob "${blobName}" exists with other content`);
    }
    const pointer = { claimcheck: `${containerName}/${blobName}`, claimcheckby: CLAIM_CHECK_MARKER };
    count('claimChecks', 1, { queue: m.queue });
    if (isCloudEvent(m.body)) {
      const { data: _data, ...attributes } = m.body;
      return { ...attributes, ...pointer };
    }
    return pointer;
  }

  /** Creates the blob unless it exists (`If-None-Match: *`); true when it now holds this content (written, or already there). */
  private async writeOnce(
    container: ContainerClient,
    name: string,
    text: string,
    hash: string,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const blob = container.getBlockBlobClient(name);
    try {
      await this.withCreated(this.createdContainer, container.containerName, 'ContainerNotFound', signal, (abortSignal) =>
        blob.upload(text, Buffer.byteLength(text), {
          blobHTTPHeaders: { blobContentType: 'application/json' },
          metadata: claimCheckMetadata(hash),
          conditions: { ifNoneMatch: '*' },
          abortSignal,
        }),
      );
      return true;
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 409 && status !== 412) throw err;
      const existing = await withDeadline(
        this.storage.deadlineMs,
        `read ${name}`,
        (abortSignal) => blob.getProperties({ abortSignal }),
        signal,
      );
      return existing.metadata?.sha256 === hash;
    }
  }

  private wrap(err: unknown, queue: string): unknown {
    if (isStorageUnavailable(err)) {
      return new StorageUnavailableError(`queue storage unavailable while writing to "${queue}"`, { cause: err });
    }
    return err;
  }
}
