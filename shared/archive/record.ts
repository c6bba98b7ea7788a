/**
 * The event archive's layout and record format (docs/archive.md). One append blob per source, hour
 * (UTC, of archiving) and writing instance: `<source>/<yyyy>/<mm>/<dd>/<hh>/<instance>[.<n>].jsonl`,
 * one JSON record per line. `.<n>` segments follow when a blob reaches the append-blob block limit.
 */
import { z } from 'zod';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

/** The bridge's inputs, as the archive names them (the first path segment). */
export const ARCHIVE_SOURCES = ['engage', 'notifications', 'noojee'] as const;
export type ArchiveSource = (typeof ARCHIVE_SOURCES)[number];

/** Record format version written in `v`. */
export const ARCHIVE_RECORD_VERSION = 1;

/** One archived message: what was queued, where, and the attributes to find it by. */
export const archiveRecordSchema = z
  .object({
    v: z.literal(ARCHIVE_RECORD_VERSION).describe('Record format version.'),
    id: z.string().min(1).describe('The message id (CloudEvents id; for raw messages the id the envelope would carry). A replay keeps it.'),
    source: z.enum(ARCHIVE_SOURCES).describe('The bridge input that enqueued the message (first path segment of the blob).'),
    eventSource: z.string().optional().describe('CloudEvents `source` of the message, when it is a CloudEvent.'),
    type: z.string().optional().describe('CloudEvents `type`, when known (absent for raw messages).'),
    subject: z.string().optional().describe('CloudEvents `subject`, when the message has one.'),
    time: z.string().optional().describe('CloudEvents `time` (when the event happened or was received), when known.'),
    queue: z.string().min(1).describe('The queue the message was written to.'),
    archivedAt: z.string().describe('When the bridge archived it (ISO 8601, UTC); the blob path hour is this hour.'),
    instance: z.string().describe('The writing instance (the blob name without .jsonl).'),
    message: z
      .string()
      .optional()
      .describe('The message text exactly as queued (before base64); for a claim-checked message, the full body the pointer refers to.'),
    claimcheck: z
      .string()
      .optional()
      .describe('`<container>/<blob>` of the claim-check blob when the message went to the queue as a pointer.'),
    pointer: z
      .string()
      .optional()
      .describe('The pointer text as queued, only when `message` was too large to archive inline (then the body is in `claimcheck`).'),
  })
  .describe('One line of an archive blob: a message the bridge enqueued, exactly as queued');

export type ArchiveRecord = z.infer<typeof archiveRecordSchema>;

/** The hour folder of a time: `<source>/<yyyy>/<mm>/<dd>/<hh>/`. */
export function hourPrefix(source: string, at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${source}/${at.getUTCFullYear()}/${p(at.getUTCMonth() + 1)}/${p(at.getUTCDate())}/${p(at.getUTCHours())}/`;
}

/** The blob of an instance in an hour folder; segment 0 has no number. */
export function archiveBlobName(source: string, at: Date, instance: string, segment = 0): string {
  return `${hourPrefix(source, at)}${instance}${segment > 0 ? `.${segment}` : ''}.jsonl`;
}

/** Every hour folder start from `from`'s hour to `to`'s hour (inclusive), oldest first. */
export function hoursBetween(from: Date, to: Date): Date[] {
  const out: Date[] = [];
  const start = Math.floor(from.getTime() / 3_600_000) * 3_600_000;
  for (let t = start; t <= to.getTime(); t += 3_600_000) out.push(new Date(t));
  return out;
}

/**
 * This process's instance name: the host (WEBSITE_INSTANCE_ID on Azure, the host name elsewhere,
 * shortened) and a random part, so two processes never append to the same blob.
 */
export function newInstanceName(env: NodeJS.ProcessEnv = process.env): string {
  const host = (env.WEBSITE_INSTANCE_ID || hostname())
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 16);
  return `${host || 'host'}-${randomBytes(4).toString('hex')}`;
}
