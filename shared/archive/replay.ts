/**
 * Replays archived messages to a queue, with their original text and ids (consumers deduplicate by
 * id). Resumable: after each batch is durably queued, a checkpoint blob
 * (`_replays/<name>.json` in the archive container) records the blobs done and the position in the
 * current one; a replay started again with the same checkpoint name continues from there, so an
 * interruption (even SIGKILL) loses nothing and re-sends at most one batch (same ids).
 */
import { createHash } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import { encodeMessage, type QueueWriter } from '../queue/writer';
import { scanArchive, type ArchiveQuery } from './find';
import { ARCHIVE_SOURCES, type ArchiveRecord, type ArchiveSource } from './record';

export const CHECKPOINT_PREFIX = '_replays/';

interface StoredQuery {
  sources?: ArchiveSource[];
  type?: string;
  subject?: string;
  id?: string;
  from: string;
  to: string;
}

export interface ReplayCheckpoint {
  v: 1;
  toQueue: string;
  query: StoredQuery;
  done: string[];
  current?: { blob: string; lines: number };
  sent: number;
  completed: boolean;
  updatedAt: string;
}

export interface ReplayOptions {
  container: ContainerClient;
  query: ArchiveQuery;
  toQueue: string;
  /** Writes the messages (claim-checks those over the queue limit); not archiving. */
  writer: Pick<QueueWriter, 'sendAll'>;
  /** Queue client of `toQueue`, for pointers sent as they were queued. */
  queue: QueueClient;
  messageTimeToLive: number;
  /** Checkpoint name (default: derived from the query and queue, see checkpointName). */
  checkpoint: string;
  dryRun?: boolean;
  /** Messages per second at most. */
  rate?: number;
  /** Messages per batch (default 100, at most `rate`). */
  batchSize?: number;
  /** Ignore an unfinished checkpoint and start from the beginning. */
  restart?: boolean;
  onRecord?: (r: ArchiveRecord) => void;
  onProgress?: (sent: number) => void;
}

export interface ReplaySummary {
  checkpoint: string;
  toQueue: string;
  dryRun: boolean;
  /** True when an unfinished checkpoint was continued. */
  resumed: boolean;
  /** Messages sent by this run (dry run: that would be sent). */
  sent: number;
  /** Messages sent in total, counting earlier interrupted runs of the same checkpoint. */
  sentTotal: number;
  blobs: number;
  unreadable: number;
  byType: Record<string, number>;
  from: string;
  to: string;
}

function storedQuery(q: ArchiveQuery): StoredQuery {
  return {
    ...(q.sources && q.sources.length > 0 ? { sources: [...q.sources] } : {}),
    ...(q.type !== undefined ? { type: q.type } : {}),
    ...(q.subject !== undefined ? { subject: q.subject } : {}),
    ...(q.id !== undefined ? { id: q.id } : {}),
    from: q.from.toISOString(),
    to: q.to.toISOString(),
  };
}

function queryOf(s: StoredQuery): ArchiveQuery {
  return {
    ...(s.sources ? { sources: s.sources.filter((x) => (ARCHIVE_SOURCES as readonly string[]).includes(x)) } : {}),
    ...(s.type !== undefined ? { type: s.type } : {}),
    ...(s.subject !== undefined ? { subject: s.subject } : {}),
    ...(s.id !== undefined ? { id: s.id } : {}),
    from: new Date(s.from),
    to: new Date(s.to),
  };
}

/** Default checkpoint name: a hash of what the command line asked for (as typed) and the target queue. */
export function checkpointName(args: Record<string, string | undefined>, toQueue: string): string {
  const canonical = JSON.stringify([
    toQueue,
    ...Object.keys(args)
      .sort()
      .map((k) => [k, args[k] ?? null]),
  ]);
  return `${toQueue}-${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

async function readCheckpoint(container: ContainerClient, name: string): Promise<ReplayCheckpoint | undefined> {
  try {
    const buf = await container.getBlobClient(`${CHECKPOINT_PREFIX}${name}.json`).downloadToBuffer();
    return JSON.parse(buf.toString('utf8')) as ReplayCheckpoint;
  } catch (err) {
    const e = err as { statusCode?: number };
    if (e.statusCode === 404) return undefined;
    throw err;
  }
}

async function writeCheckpoint(container: ContainerClient, name: string, c: ReplayCheckpoint): Promise<void> {
  const text = JSON.stringify({ ...c, updatedAt: new Date().toISOString() });
  await container
    .getBlockBlobClient(`${CHECKPOINT_PREFIX}${name}.json`)
    .upload(text, Buffer.byteLength(text), { blobHTTPHeaders: { blobContentType: 'application/json' } });
}

function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function replayArchive(o: ReplayOptions): Promise<ReplaySummary> {
  const previous = o.dryRun || o.restart ? undefined : await readCheckpoint(o.container, o.checkpoint);
  const resumed = previous !== undefined && !previous.completed && previous.toQueue === o.toQueue;
  const query = resumed ? queryOf(previous.query) : o.query;
  const checkpoint: ReplayCheckpoint = resumed
    ? { ...previous, done: [...previous.done] }
    : { v: 1, toQueue: o.toQueue, query: storedQuery(query), done: [], sent: 0, completed: false, updatedAt: '' };
  const done = new Set(checkpoint.done);
  const batchSize = Math.max(1, Math.min(o.batchSize ?? 100, o.rate ?? Infinity));
  const summary: ReplaySummary = {
    checkpoint: o.checkpoint,
    toQueue: o.toQueue,
    dryRun: Boolean(o.dryRun),
    resumed,
    sent: 0,
    sentTotal: checkpoint.sent,
    blobs: 0,
    unreadable: 0,
    byType: {},
    from: query.from.toISOString(),
    to: query.to.toISOString(),
  };
  if (!o.dryRun) await o.container.createIfNotExists();
  const started = Date.now();
  let batch: { record: ArchiveRecord; blob: string; line: number }[] = [];
  let ended: string[] = [];

  const flush = async () => {
    if (batch.length === 0 && ended.length === 0) return;
    if (!o.dryRun && batch.length > 0) {
      const messages = batch.filter((b) => b.record.message !== undefined);
      // The text is sent as archived; the parsed body lets the writer claim-check as it did the first time (pointer with the attributes).
      await o.writer.sendAll(
        messages.map((b) => ({ queue: o.toQueue, body: parsedOrText(b.record.message!), text: b.record.message!, key: b.record.id })),
      );
      // Archived without its body (over the block limit): the pointer exactly as it was queued.
      for (const b of batch.filter((x) => x.record.message === undefined && x.record.pointer !== undefined))
        await o.queue.sendMessage(encodeMessage(b.record.pointer!), { messageTimeToLive: o.messageTimeToLive });
    }
    summary.sent += batch.length;
    checkpoint.sent += batch.length;
    summary.sentTotal = checkpoint.sent;
    for (const b of ended) done.add(b);
    checkpoint.done = [...done];
    const last = batch.at(-1);
    if (last && !done.has(last.blob)) checkpoint.current = { blob: last.blob, lines: last.line + 1 };
    else if (checkpoint.current && done.has(checkpoint.current.blob)) delete checkpoint.current;
    if (!o.dryRun) await writeCheckpoint(o.container, o.checkpoint, checkpoint);
    batch = [];
    ended = [];
    o.onProgress?.(summary.sent);
    if (o.rate) {
      const due = started + (summary.sent / o.rate) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
    }
  };

  for await (const item of scanArchive(o.container, query, { done, ...(checkpoint.current ? { current: checkpoint.current } : {}) })) {
    if (item.kind === 'unreadable') {
      summary.unreadable++;
      continue;
    }
    if (item.kind === 'blobEnd') {
      summary.blobs++;
      ended.push(item.blob);
      continue;
    }
    o.onRecord?.(item.record);
    const type = item.record.type ?? '(raw)';
    summary.byType[type] = (summary.byType[type] ?? 0) + 1;
    batch.push(item);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  if (!o.dryRun) {
    checkpoint.completed = true;
    await writeCheckpoint(o.container, o.checkpoint, checkpoint);
  }
  return summary;
}
