/**
 * The drain's write-ahead journal. Notification reads are destructive, so every page is written
 * to one blob (JOURNAL_CONTAINER, `notifications/<run id>/<page no>`) BEFORE its messages are
 * enqueued, and deleted after. Envelope ids are `<entry name>:<index>`, so replaying an entry a
 * crashed run left produces the same ids (consumers deduplicate on them).
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_DEADLETTER_QUEUE, deadLetterEvent } from '../deadletter';
import { cloudEvent, formatBody, type MessageFormat } from '../envelope';
import type { OutgoingMessage } from '../queue/writer';
import { JOURNAL_PREFIX } from './defaults';
import type { RejectedNotification } from './pageLimits';

export interface JournalEntry {
  version: 1;
  subscriptionId: string;
  /** The API base URL (envelope source). */
  source: string;
  readAt: string;
  page?: number | null;
  /** The page's notifications; a rejected one is null here (the others keep their index, so their ids). */
  results: unknown[];
  /** Notifications over the limits (pageLimits.ts): dead-lettered with the reason, never enqueued to the queue. */
  rejected?: RejectedNotification[];
}

/** A run id that sorts by time: `20261123T122200123Z-3f9a1c`. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
}

export function journalEntryName(runId: string, pageNo: number): string {
  return `${JOURNAL_PREFIX}${runId}/${String(pageNo).padStart(6, '0')}`;
}

/** Blob for a 2xx notifications answer that could not be understood (kept for an operator, never replayed). */
export function quarantineName(runId: string, pageNo: number): string {
  return `quarantine/${journalEntryName(runId, pageNo)}`;
}

export interface MessageOptions {
  queue: string;
  format: MessageFormat;
  /** DEADLETTER_QUEUE: where rejected notifications go (default engage-deadletter). */
  deadLetterQueue?: string;
}

/** The CloudEvents type of a notification: its `event_type_id` (`unknown` when absent). */
export function notificationType(n: unknown): string {
  const id = typeof n === 'object' && n !== null ? (n as { event_type_id?: unknown }).event_type_id : undefined;
  return typeof id === 'string' && id !== '' ? id : typeof id === 'number' ? String(id) : 'unknown';
}

/** Queue messages for a journal entry: one per notification (a rejected one: its dead letter), deterministic ids. */
export function messagesFor(name: string, entry: JournalEntry, options: MessageOptions): OutgoingMessage[] {
  const rejected = new Map((entry.rejected ?? []).map((r) => [r.index, r]));
  return entry.results.map((data, index) => {
    const id = `${name}:${index}`;
    const reject = rejected.get(index);
    if (reject) {
      const event = deadLetterEvent({
        id,
        source: entry.source,
        time: entry.readAt,
        data: {
          reason: reject.reason,
          origin: 'notifications-drain',
          location: { journalEntry: name, index, subscriptionId: entry.subscriptionId },
          received: reject.summary,
        },
      });
      return { queue: options.deadLetterQueue ?? DEFAULT_DEADLETTER_QUEUE, body: formatBody(event, 'cloudevents'), key: id };
    }
    const ts = typeof data === 'object' && data !== null ? (data as { timestamp?: unknown }).timestamp : undefined;
    const event = cloudEvent({
      id,
      source: entry.source,
      type: notificationType(data),
      time: typeof ts === 'string' && !Number.isNaN(Date.parse(ts)) ? ts : entry.readAt,
      data,
    });
    return { queue: options.queue, body: formatBody(event, options.format), key: id };
  });
}
