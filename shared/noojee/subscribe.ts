/**
 * The subscribe long-poll response and the queue messages made from it.
 *
 * Shape (seed 003): `{"Data": {"<exten>": [{"CallData": {...}, "CallID": 2, "Code": 0}, ...]}, "seq": 10, "Code": 0}`.
 * The cursor is the top-level `seq` (the doc text says "CallData.seq", but the sample and Noojee's own
 * Java client use the top-level one). On a timeout without events `Data` may be missing, empty or
 * not an object: all mean "no events". `status` is an open string (Ringing, Connected, Hungup, Busy,
 * No Answer, Unlinked, Dialing Out, ...).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { cloudEvent, type CloudEvent } from '../envelope';
import { deadLetterEvent } from '../deadletter';
import { describeIssues } from '../errors';

const callData = z.looseObject({
  uniqueCallId: z.union([z.string(), z.number()]).optional(),
  status: z.string().optional(),
  callerId: z.union([z.string(), z.number()]).optional(),
});

/** One entry of `Data.<exten>[]`: it is also the `data` of the call-event message, untouched. */
export const callEntrySchema = z.looseObject({
  CallData: callData,
  CallID: z.number().optional(),
  Code: z.number().optional(),
});

export type CallEntry = z.infer<typeof callEntrySchema>;

const subscribeResponse = z.looseObject({
  Code: z.coerce.number().int(),
  Message: z.string().optional(),
  seq: z.coerce.number().int().nonnegative().optional(),
  Data: z.preprocess(
    (d) => (typeof d === 'object' && d !== null && !Array.isArray(d) ? d : {}),
    z.record(
      z.string(),
      z.preprocess((list): unknown[] => (Array.isArray(list) ? (list as unknown[]) : []), z.array(z.unknown())),
    ),
  ),
});

export interface CallEvent {
  exten: string;
  /** Position of the entry in its extension's list (tells apart repeated entries of one response). */
  index: number;
  /** The upstream entry untouched (`{CallData, CallID, Code}`). */
  entry: Record<string, unknown> & { CallData: Record<string, unknown> };
  uniqueCallId?: string;
  status?: string;
}

export interface SubscribeResponse {
  Code: number;
  Message?: string;
  /** Pass back as `lastSequenceNumber`; undefined when the server sent none. */
  seq?: number;
  events: CallEvent[];
  /** Entries of `Data` without a `CallData` object: not call events, kept in the dead-letter queue. */
  unreadable: UnreadableEntry[];
}

/** An entry of `Data` that is not a call event, as received. */
export interface UnreadableEntry {
  exten: string;
  index: number;
  entry: unknown;
  reason: string;
}

/** Validates a subscribe body and flattens `Data` into events (extension order, then list order). */
export function parseSubscribeResponse(body: unknown): SubscribeResponse {
  const parsed = subscribeResponse.parse(body);
  const events: CallEvent[] = [];
  const unreadable: UnreadableEntry[] = [];
  for (const [exten, list] of Object.entries(parsed.Data)) {
    for (const [index, raw] of list.entries()) {
      const entry = callEntrySchema.safeParse(raw);
      if (!entry.success) {
        unreadable.push({
          exten,
          index,
          entry: raw,
          reason: `Data.${exten}.${index} is not a call entry (${describeIssues(entry.error)})`,
        });
        continue;
      }
      events.push({
        exten,
        index,
        entry: raw as CallEvent['entry'],
        uniqueCallId: entry.data.CallData.uniqueCallId?.toString(),
        status: entry.data.CallData.status,
      });
    }
  }
  return { Code: parsed.Code, Message: parsed.Message, seq: parsed.seq, events, unreadable };
}

export const CALL_EVENT_TYPE_PREFIX = 'com.noojee.call.';

/** `com.noojee.call.<status lower-case, spaces as ->`, e.g. `No Answer` → `com.noojee.call.no-answer`. */
export function callEventType(status: string | undefined): string {
  const slug = (status ?? 'unknown').trim().toLowerCase().replace(/\s+/g, '-') || 'unknown';
  return `${CALL_EVENT_TYPE_PREFIX}${slug}`;
}

/** NOOJEE_EVENT_ID: ids from the event's content (default) or from the answer's `seq`. */
export type CallEventIdMode = 'content' | 'seq';

/**
 * Envelope ids. Noojee gives no event key and the same event can come back in another answer under
 * another `seq` (two overlapping pollers, a retry after a lost answer, `lastSequenceNumber=0` after a
 * lost cursor), so by default (`content`) the id is `<uniqueCallId>:<status>:<exten>:<digest>`, the
 * digest being the first 12 hex digits of the SHA-256 of the entry as received: the same event keeps
 * its id whatever answer carried it. The same entry twice in one answer on one extension gets
 * `:<position>`. With `seq` the id is `<uniqueCallId>:<status>:<seq>` (`:<exten>[:<position>]` when one
 * answer repeats a call and status). An entry without uniqueCallId uses `call-<CallID>`.
 */
export function callEventIds(events: readonly CallEvent[], seq: number, mode: CallEventIdMode = 'content'): string[] {
  const call = (e: CallEvent) => e.uniqueCallId ?? `call-${typeof e.entry.CallID === 'number' ? e.entry.CallID : 'unknown'}`;
  if (mode === 'content') {
    const base = events.map((e) => `${call(e)}:${e.status ?? 'unknown'}:${e.exten}:${entryDigest(e.entry)}`);
    return disambiguate(base, (i) => `:${events[i].index}`);
  }
  const base = events.map((e) => `${call(e)}:${e.status ?? 'unknown'}:${seq}`);
  const byExten = disambiguate(base, (i) => `:${events[i].exten}`);
  return disambiguate(byExten, (i) => `:${events[i].index}`);
}

/** First 12 hex digits of the SHA-256 of the entry's JSON text (as parsed from the answer, key order kept). */
function entryDigest(entry: CallEvent['entry']): string {
  return createHash('sha256').update(JSON.stringify(entry)).digest('hex').slice(0, 12);
}

/** Appends `suffix(i)` to every id that occurs more than once. */
function disambiguate(ids: readonly string[], suffix: (i: number) => string): string[] {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return ids.map((id, i) => (counts.get(id)! > 1 ? `${id}${suffix(i)}` : id));
}

/** Dead-letter messages for the entries of a response that are not call events (ids `unreadable:<seq>:<exten>:<index>`). */
export function unreadableEnvelopes(
  response: SubscribeResponse,
  seq: number,
  source: string,
  time = new Date().toISOString(),
): CloudEvent[] {
  return response.unreadable.map((u) =>
    deadLetterEvent({
      id: `unreadable:${seq}:${u.exten}:${u.index}`,
      source,
      time,
      data: { reason: u.reason, origin: 'noojee-subscribe', location: { seq, exten: u.exten, index: u.index }, received: u.entry },
    }),
  );
}

/** One CloudEvent per CallData: subject = extension, data = the upstream entry untouched. */
export function callEventEnvelopes(
  response: SubscribeResponse,
  seq: number,
  source: string,
  time = new Date().toISOString(),
  idMode: CallEventIdMode = 'content',
): CloudEvent[] {
  const ids = callEventIds(response.events, seq, idMode);
  return response.events.map((e, i) =>
    cloudEvent({ id: ids[i], source, type: callEventType(e.status), subject: e.exten, time, data: e.entry }),
  );
}
