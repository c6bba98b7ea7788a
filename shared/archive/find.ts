/**
 * Reads the archive back: lists each hour folder of the window (`<source>/<yyyy>/<mm>/<dd>/<hh>/`),
 * streams every blob line by line (memory bounded by one line, never a whole blob) and yields the
 * records that match. Order: hour by hour, within an hour source by source, blobs by name, lines
 * as appended — the same order on every run, which the replay checkpoint relies on.
 */
import { createInterface } from 'node:readline';
import type { ContainerClient } from '@azure/storage-blob';
import { ARCHIVE_SOURCES, archiveRecordSchema, hourPrefix, hoursBetween, type ArchiveRecord, type ArchiveSource } from './record';

export interface ArchiveQuery {
  /** Sources to read (default: all). */
  sources?: readonly ArchiveSource[];
  type?: string;
  subject?: string;
  id?: string;
  /** Window on `archivedAt` (inclusive). */
  from: Date;
  to: Date;
}

export type ArchiveItem =
  | { kind: 'record'; record: ArchiveRecord; blob: string; line: number }
  /** A blob read to its end (lines: how many). */
  | { kind: 'blobEnd'; blob: string; lines: number }
  /** A line that is not a record (skipped). */
  | { kind: 'unreadable'; blob: string; line: number; reason: string };

export interface ScanPosition {
  /** Blobs to skip entirely. */
  done?: ReadonlySet<string>;
  /** A blob partly handled: its first `lines` lines are skipped. */
  current?: { blob: string; lines: number };
}

export function matches(record: ArchiveRecord, q: ArchiveQuery): boolean {
  const at = Date.parse(record.archivedAt);
  if (!(at >= q.from.getTime() && at <= q.to.getTime())) return false;
  if (q.type !== undefined && record.type !== q.type) return false;
  if (q.subject !== undefined && record.subject !== q.subject) return false;
  if (q.id !== undefined && record.id !== q.id) return false;
  return true;
}

/** Every archive blob of the window, in scan order. */
export async function* archiveBlobs(container: ContainerClient, q: ArchiveQuery): AsyncGenerator<string> {
  const sources = q.sources && q.sources.length > 0 ? q.sources : ARCHIVE_SOURCES;
  if (!(await container.exists())) return; // nothing archived yet
  for (const hour of hoursBetween(q.from, q.to)) {
    for (const source of sources) {
      const names: string[] = [];
      for await (const b of container.listBlobsFlat({ prefix: hourPrefix(source, hour) })) names.push(b.name);
      // Listing is in name order already; sort anyway (segments `.1`, `.2` after the first).
      names.sort();
      yield* names;
    }
  }
}

/** The matching records of the window, streamed, with blob ends (for checkpoints). */
export async function* scanArchive(container: ContainerClient, q: ArchiveQuery, from: ScanPosition = {}): AsyncGenerator<ArchiveItem> {
  for await (const blob of archiveBlobs(container, q)) {
    if (from.done?.has(blob)) continue;
    const skip = from.current?.blob === blob ? from.current.lines : 0;
    const download = await container.getBlobClient(blob).download();
    const body = download.readableStreamBody;
    let line = 0;
    if (body) {
      const lines = createInterface({ input: body, crlfDelay: Infinity });
      for await (const text of lines) {
        const at = line++;
        if (at < skip || text.trim() === '') continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          yield { kind: 'unreadable', blob, line: at, reason: 'not JSON' };
          continue;
        }
        const record = archiveRecordSchema.safeParse(parsed);
        if (!record.success) {
          yield { kind: 'unreadable', blob, line: at, reason: record.error.issues[0]?.message ?? 'not a record' };
          continue;
        }
        if (matches(record.data, q)) yield { kind: 'record', record: record.data, blob, line: at };
      }
    }
    yield { kind: 'blobEnd', blob, lines: line };
  }
}

/**
 * A point in time as the CLI takes it: ISO 8601 (`2026-12-05T10:00:00Z`), `now`, or `now-<n><unit>`
 * with unit m, h or d (`now-2h`).
 */
export function parseTime(text: string, now: Date = new Date()): Date {
  const rel = /^now(?:-(\d+)([mhd]))?$/.exec(text.trim());
  if (rel) {
    if (!rel[1]) return now;
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(rel[1]) * unit);
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text))
    throw new Error(`"${text}" is not a time: use ISO 8601 (2026-12-05T10:00:00Z), now, or now-<n>m|h|d`);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`"${text}" is not a time: use ISO 8601 (2026-12-05T10:00:00Z), now, or now-<n>m|h|d`);
  return new Date(t);
}
