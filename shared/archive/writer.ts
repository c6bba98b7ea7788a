/**
 * Appends archive records to this instance's append blob of the hour. Concurrent appends to the same
 * blob are grouped: while two Append Block calls are in flight, the records arriving meanwhile wait and
 * go together in the next block (at most MAX_APPEND_BLOCK_BYTES), so a busy instance makes a couple of
 * calls per round trip rather than one per message, and stays far from the 50,000-blocks-per-blob limit (a
 * blob that reaches it is continued in the next segment `<instance>.<n>.jsonl`). A promise from
 * `append` settles when its block is stored (or failed: the caller then answers 503 / retries).
 */
import type { BlobServiceClient } from '@azure/storage-blob';
import { StorageUnavailableError, isStorageUnavailable } from '../errors';
import { CreateOnce, withDeadline } from '../storage';
import { archiveBlobName, newInstanceName, type ArchiveRecord, type ArchiveSource } from './record';

/** Largest Append Block accepted (4 MiB; newer service versions allow more, Azurite and older ones do not). */
export const MAX_APPEND_BLOCK_BYTES = 4 * 1024 * 1024;

export interface ArchiveWriterOptions {
  container: string;
  source: ArchiveSource;
  /** Instance name in blob names (default: host + random, see newInstanceName). */
  instance?: string;
  /** Largest block written (default MAX_APPEND_BLOCK_BYTES; tests use less). */
  maxBlockBytes?: number;
  /** Append Block calls in flight per blob (default 2): while they are, new records wait and go together in the next. */
  appendsInFlight?: number;
  /** Clock (tests). */
  now?: () => Date;
}

interface Pending {
  line: Buffer;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** One hour's blob of this instance: the records waiting for it and the append in flight. */
interface HourLog {
  at: Date;
  segment: number;
  created: boolean;
  waiting: Pending[];
  /** Appends in flight (at most `appendsInFlight`). */
  pumps: number;
}

/** Fields of a record the writer fills in itself. */
export type RecordInput = Omit<ArchiveRecord, 'v' | 'source' | 'archivedAt' | 'instance'>;

export class ArchiveWriter {
  readonly instance: string;
  private readonly logs = new Map<string, HourLog>();
  private readonly createdContainer: CreateOnce;
  private readonly maxBlockBytes: number;
  private readonly appendsInFlight: number;
  private readonly now: () => Date;
  /** Bytes of records appended by this writer (bench: bytes per event). */
  bytesWritten = 0;

  constructor(
    private readonly blobs: BlobServiceClient,
    private readonly deadlineMs: number,
    readonly options: ArchiveWriterOptions,
  ) {
    this.instance = options.instance ?? newInstanceName();
    this.maxBlockBytes = options.maxBlockBytes ?? MAX_APPEND_BLOCK_BYTES;
    this.appendsInFlight = options.appendsInFlight ?? 2;
    this.now = options.now ?? (() => new Date());
    this.createdContainer = new CreateOnce((name) =>
      withDeadline(deadlineMs, `create container ${name}`, (abortSignal) =>
        blobs.getContainerClient(name).createIfNotExists({ abortSignal }),
      ),
    );
  }

  /** The line a record is archived as (JSON + newline). */
  line(input: RecordInput, at: Date = this.now()): string {
    const record: ArchiveRecord = {
      v: 1,
      id: input.id,
      source: this.options.source,
      ...(input.eventSource !== undefined ? { eventSource: input.eventSource } : {}),
      ...(input.type !== undefined ? { type: input.type } : {}),
      ...(input.subject !== undefined ? { subject: input.subject } : {}),
      ...(input.time !== undefined ? { time: input.time } : {}),
      queue: input.queue,
      archivedAt: at.toISOString(),
      instance: this.instance,
      ...(input.message !== undefined ? { message: input.message } : {}),
      ...(input.claimcheck !== undefined ? { claimcheck: input.claimcheck } : {}),
      ...(input.pointer !== undefined ? { pointer: input.pointer } : {}),
    };
    return `${JSON.stringify(record)}\n`;
  }

  /**
   * Archives one record; resolves once it is stored. A message too large for one block is archived
   * without its body (`pointer` and `claimcheck` say where it is) when `fallback` gives that form.
   */
  append(input: RecordInput, fallback?: () => RecordInput): Promise<void> {
    const at = this.now();
    let line = Buffer.from(this.line(input, at), 'utf8');
    if (line.length > this.maxBlockBytes && fallback) line = Buffer.from(this.line(fallback(), at), 'utf8');
    if (line.length > this.maxBlockBytes)
      return Promise.reject(
        new Error(`archive record of ${input.id} is ${line.length} bytes, over the ${this.maxBlockBytes}-byte block limit`),
      );
    const name = archiveBlobName(this.options.source, at, this.instance);
    let log = this.logs.get(name);
    if (!log) {
      log = { at, segment: 0, created: false, waiting: [], pumps: 0 };
      this.logs.set(name, log);
      // Hours past are done with once idle.
      for (const [n, l] of this.logs) if (n !== name && l.pumps === 0 && l.waiting.length === 0) this.logs.delete(n);
    }
    const target = log;
    return new Promise<void>((resolve, reject) => {
      target.waiting.push({ line, resolve, reject });
      if (target.pumps < this.appendsInFlight) void this.pump(target);
    });
  }

  private async pump(log: HourLog): Promise<void> {
    log.pumps++;
    try {
      while (log.waiting.length > 0) {
        const batch: Pending[] = [];
        let bytes = 0;
        while (log.waiting.length > 0 && (batch.length === 0 || bytes + log.waiting[0].line.length <= this.maxBlockBytes)) {
          const p = log.waiting.shift()!;
          batch.push(p);
          bytes += p.line.length;
        }
        try {
          await this.appendBlock(
            log,
            Buffer.concat(
              batch.map((p) => p.line),
              bytes,
            ),
          );
          this.bytesWritten += bytes;
          for (const p of batch) p.resolve();
        } catch (err) {
          const wrapped = isStorageUnavailable(err)
            ? new StorageUnavailableError(`archive storage unavailable while writing to "${this.options.container}"`, { cause: err })
            : err;
          for (const p of batch) p.reject(wrapped);
        }
      }
    } finally {
      log.pumps--;
    }
  }

  private async appendBlock(log: HourLog, data: Buffer): Promise<void> {
    const containerName = this.options.container;
    const container = this.blobs.getContainerClient(containerName);
    for (let attempt = 1; ; attempt++) {
      const segment = log.segment;
      const blob = container.getAppendBlobClient(archiveBlobName(this.options.source, log.at, this.instance, segment));
      try {
        if (!log.created) {
          await this.createdContainer.ensure(containerName);
          await withDeadline(this.deadlineMs, `create archive blob ${blob.name}`, (abortSignal) =>
            blob.createIfNotExists({ blobHTTPHeaders: { blobContentType: 'application/x-ndjson' }, abortSignal }),
          );
          log.created = true;
        }
        await withDeadline(this.deadlineMs, `append to ${blob.name}`, (abortSignal) =>
          blob.appendBlock(data, data.length, { abortSignal }),
        );
        return;
      } catch (err) {
        const code = errorCode(err);
        if (attempt <= 3 && (code === 'BlockCountExceedsLimit' || code === 'MaxBlobSizeConditionNotMet')) {
          // The blob is full: continue in the next segment (once, whichever append found it full first).
          if (log.segment === segment) {
            log.segment++;
            log.created = false;
          }
          continue;
        }
        if (attempt <= 2 && (code === 'BlobNotFound' || code === 'ContainerNotFound')) {
          // Deleted since (or storage restarted empty): create again, once.
          log.created = false;
          if (code === 'ContainerNotFound') this.createdContainer.forget(containerName, this.createdContainer.ensure(containerName));
          continue;
        }
        throw err;
      }
    }
  }
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: string; details?: { errorCode?: string } } | undefined;
  return e?.details?.errorCode ?? e?.code;
}
