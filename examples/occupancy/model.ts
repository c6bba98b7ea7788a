/**
 * Live occupancy per resource (room or desk), derived from Engage events. Pure: no I/O.
 *
 * Each event is turned into per-resource changes (`OccupancyChange`); a resource's document keeps,
 * per booking, the latest progression (START / STOP / EXTEND) and the latest booking change
 * (new-updated / deleted). "Latest" is a total order on (event time, action rank, event id), so
 * applying the same set of changes in any order, any number of times, gives the same document:
 * duplicates and out-of-order redeliveries change nothing. A resource is occupied while one of its
 * bookings' latest progression is START or EXTEND.
 *
 * Event time: the payload's own time (`UpdatedTime` / `UpdateTime`) when it is a real time; Condeco's
 * empty value (.NET `DateTime.MinValue`, "0001-01-01T00:00:00", as in the documented samples) and
 * booking changes (which carry no update time) use the envelope `time` instead. Times without an
 * offset (Condeco sends local times) are compared as written.
 */
import type { DeskPayload, DeskProgressionPayload, MeetingExternalPayload, MeetingProgressionPayload } from '../../shared/engage/events';

export type ResourceKind = 'room' | 'desk';
export type ProgressionAction = 'start' | 'stop' | 'extend';
export type BookingStatus = 'active' | 'deleted';

const PROGRESSION_BY_NUMBER: Record<number, ProgressionAction> = { 0: 'start', 1: 'stop', 2: 'extend' };
/** Tie-break at the same instant: a STOP wins over an EXTEND, which wins over a START. */
const PROGRESSION_RANK: Record<ProgressionAction, number> = { start: 0, extend: 1, stop: 2 };
const BOOKING_RANK: Record<BookingStatus, number> = { active: 0, deleted: 1 };

/** Where an ordered fact came from: its time as written, the order key (ms) and the event id. */
export interface Stamp {
  at: string;
  order: number;
  eventId: string;
}

export interface ProgressFact extends Stamp {
  action: ProgressionAction;
  /** ActionSource: 0 web, 1 external (mobile, API, panel). */
  source: number;
}

export interface BookingFact extends Stamp {
  status: BookingStatus;
  /** The booking's date as Engage sends it (DESK `Date`, MEETINGEXTERNAL key). */
  date?: string;
  untilFurtherNotice?: boolean;
}

export interface BookingEntry {
  bookingId: number;
  progress?: ProgressFact;
  /** Earliest START seen for this booking (when the current occupation began). */
  firstStart?: Stamp;
  booking?: BookingFact;
}

export interface OccupancyDocument {
  version: 1;
  resourceId: number;
  kind?: ResourceKind;
  /** Largest event order applied (ms); defines the history window. */
  latestOrder: number;
  bookings: Record<string, BookingEntry>;
  /** Envelope ids already applied to this resource, most recent last (bounded). */
  appliedEventIds: string[];
  /** Wall-clock time of the last change. */
  updatedAt: string;
}

export type OccupancyChange =
  | { kind: ResourceKind; resourceId: number; bookingId: number; fact: 'progress'; value: ProgressFact }
  | { kind: ResourceKind; resourceId: number; bookingId: number; fact: 'booking'; value: BookingFact };

/** Envelope ids remembered per resource (older duplicates are still harmless: the merge is idempotent). */
export const MAX_APPLIED_IDS = 200;

const NO_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** Sort key (ms) of a time string; undefined for the .NET empty date or an unreadable value. */
export function timeOrder(value: string | undefined): number | undefined {
  if (!value || value.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(NO_OFFSET.test(value) ? `${value}Z` : value);
  return Number.isFinite(ms) ? ms : undefined;
}

function stamp(own: string | undefined, envelopeTime: string | undefined, eventId: string): Stamp {
  const ownOrder = timeOrder(own);
  if (ownOrder !== undefined) return { at: own!, order: ownOrder, eventId };
  const envOrder = timeOrder(envelopeTime);
  return { at: envelopeTime ?? '', order: envOrder ?? 0, eventId };
}

export interface EventRef {
  id: string;
  time?: string;
}

export interface Skipped {
  resourceId: number;
  bookingId: number;
  reason: string;
}

export function meetingProgressionChanges(event: EventRef, data: MeetingProgressionPayload, skipped: Skipped[] = []): OccupancyChange[] {
  return progressionChanges(
    'room',
    event,
    data.map((i) => ({ ...i, time: i.UpdatedTime, action: i.MeetingProgressionAction })),
    skipped,
  );
}

export function deskProgressionChanges(event: EventRef, data: DeskProgressionPayload, skipped: Skipped[] = []): OccupancyChange[] {
  return progressionChanges(
    'desk',
    event,
    data.map((i) => ({ ...i, time: i.UpdateTime, action: i.DeskProgressionAction })),
    skipped,
  );
}

function progressionChanges(
  kind: ResourceKind,
  event: EventRef,
  items: { BookingId: number; ResourceItemId: number; time: string; action: number; ActionSource: number }[],
  skipped: Skipped[],
): OccupancyChange[] {
  const out: OccupancyChange[] = [];
  for (const item of items) {
    const action = PROGRESSION_BY_NUMBER[item.action];
    if (!action) {
      skipped.push({ resourceId: item.ResourceItemId, bookingId: item.BookingId, reason: `unknown progression action ${item.action}` });
      continue;
    }
    out.push({
      kind,
      resourceId: item.ResourceItemId,
      bookingId: item.BookingId,
      fact: 'progress',
      value: { ...stamp(item.time, event.time, event.id), action, source: item.ActionSource },
    });
  }
  return out;
}

interface BookingItem {
  ResourceItemID: number;
  BookingID: number;
  /** 0 deleted, 1 new / updated. */
  Action: number;
  date: string;
  untilFurtherNotice?: boolean;
}

function bookingChanges(kind: ResourceKind, event: EventRef, items: BookingItem[], skipped: Skipped[]): OccupancyChange[] {
  const out: OccupancyChange[] = [];
  for (const item of items) {
    const status: BookingStatus | undefined = item.Action === 1 ? 'active' : item.Action === 0 ? 'deleted' : undefined;
    if (!status) {
      skipped.push({ resourceId: item.ResourceItemID, bookingId: item.BookingID, reason: `unknown booking action ${item.Action}` });
      continue;
    }
    const value: BookingFact = { ...stamp(undefined, event.time, event.id), status, date: item.date };
    if (item.untilFurtherNotice !== undefined) value.untilFurtherNotice = item.untilFurtherNotice;
    out.push({ kind, resourceId: item.ResourceItemID, bookingId: item.BookingID, fact: 'booking', value });
  }
  return out;
}

export function deskBookingChanges(event: EventRef, data: DeskPayload, skipped: Skipped[] = []): OccupancyChange[] {
  return bookingChanges(
    'desk',
    event,
    data.map((i) => ({ ...i, date: i.Date, untilFurtherNotice: i.UntilFurtherNotice })),
    skipped,
  );
}

export function meetingBookingChanges(event: EventRef, data: MeetingExternalPayload, skipped: Skipped[] = []): OccupancyChange[] {
  const items = Object.entries(data).flatMap(([date, day]) => day.ChangedItems.map((i) => ({ ...i, date })));
  return bookingChanges('room', event, items, skipped);
}

/** -1 / 0 / 1: total order of two stamped facts (time, then rank, then event id). */
function compare(a: Stamp, aRank: number, b: Stamp, bRank: number): number {
  if (a.order !== b.order) return a.order < b.order ? -1 : 1;
  if (aRank !== bRank) return aRank < bRank ? -1 : 1;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

export function emptyDocument(resourceId: number): OccupancyDocument {
  return { version: 1, resourceId, latestOrder: 0, bookings: {}, appliedEventIds: [], updatedAt: new Date(0).toISOString() };
}

function entryOrder(e: BookingEntry): number {
  return Math.max(e.progress?.order ?? 0, e.booking?.order ?? 0);
}

export interface ApplyResult {
  document: OccupancyDocument;
  /** False when nothing changed (duplicate event, or only facts older than what is kept). */
  changed: boolean;
  /** Changes ignored because they fall outside the history window. */
  stale: number;
}

/**
 * Applies the changes of one event (`eventId`) for one resource. Returns a new document; the input
 * is not modified. Duplicates (same event id remembered, or facts not newer than the kept ones)
 * leave it unchanged.
 */
export function applyChanges(
  doc: OccupancyDocument,
  eventId: string,
  changes: readonly OccupancyChange[],
  options: { historyMs: number; now?: Date },
): ApplyResult {
  if (doc.appliedEventIds.includes(eventId)) return { document: doc, changed: false, stale: 0 };
  const next: OccupancyDocument = structuredClone(doc);
  let changed = false;
  let stale = 0;
  for (const c of changes) {
    if (c.resourceId !== doc.resourceId) continue;
    const horizon = Math.max(next.latestOrder, c.value.order) - options.historyMs;
    if (c.value.order < horizon) {
      stale++;
      continue;
    }
    const key = String(c.bookingId);
    const entry: BookingEntry = next.bookings[key] ?? { bookingId: c.bookingId };
    if (c.fact === 'progress') {
      const v = c.value;
      if (!entry.progress || compare(v, PROGRESSION_RANK[v.action], entry.progress, PROGRESSION_RANK[entry.progress.action]) > 0) {
        entry.progress = v;
        changed = true;
      }
      if (v.action === 'start' && (!entry.firstStart || compare(v, 0, entry.firstStart, 0) < 0)) {
        entry.firstStart = { at: v.at, order: v.order, eventId: v.eventId };
        changed = true;
      }
    } else {
      const v = c.value;
      if (!entry.booking || compare(v, BOOKING_RANK[v.status], entry.booking, BOOKING_RANK[entry.booking.status]) > 0) {
        entry.booking = v;
        changed = true;
      }
    }
    next.bookings[key] = entry;
    if (c.value.order > next.latestOrder) next.latestOrder = c.value.order;
    if (!next.kind) next.kind = c.kind;
  }
  // Drop bookings whose newest fact left the history window.
  const horizon = next.latestOrder - options.historyMs;
  for (const [key, entry] of Object.entries(next.bookings)) {
    if (entryOrder(entry) < horizon) {
      delete next.bookings[key];
      changed = true;
    }
  }
  next.appliedEventIds = [...next.appliedEventIds, eventId].slice(-MAX_APPLIED_IDS);
  if (changed) next.updatedAt = (options.now ?? new Date()).toISOString();
  return { document: next, changed, stale };
}

/** What `GET /api/occupancy/{resourceId}` returns. */
export interface OccupancyView {
  resourceId: number;
  kind: ResourceKind | null;
  occupied: boolean;
  /** The booking in progress (latest START / EXTEND), when occupied. */
  current: {
    bookingId: number;
    since: string;
    lastAction: ProgressionAction;
    lastActionAt: string;
    source: 'web' | 'external' | number;
  } | null;
  bookings: {
    bookingId: number;
    status: BookingStatus | null;
    date: string | null;
    untilFurtherNotice: boolean | null;
    changedAt: string | null;
    progress: { action: ProgressionAction; at: string } | null;
  }[];
  updatedAt: string;
}

function sourceName(n: number): 'web' | 'external' | number {
  return n === 0 ? 'web' : n === 1 ? 'external' : n;
}

export function occupancyView(doc: OccupancyDocument): OccupancyView {
  const entries = Object.values(doc.bookings).sort((a, b) => a.bookingId - b.bookingId);
  let current: BookingEntry | undefined;
  for (const e of entries) {
    const p = e.progress;
    if (!p || p.action === 'stop') continue;
    if (!current || compare(p, PROGRESSION_RANK[p.action], current.progress!, PROGRESSION_RANK[current.progress!.action]) > 0) current = e;
  }
  return {
    resourceId: doc.resourceId,
    kind: doc.kind ?? null,
    occupied: current !== undefined,
    current: current
      ? {
          bookingId: current.bookingId,
          since: current.firstStart?.at ?? current.progress!.at,
          lastAction: current.progress!.action,
          lastActionAt: current.progress!.at,
          source: sourceName(current.progress!.source),
        }
      : null,
    bookings: entries.map((e) => ({
      bookingId: e.bookingId,
      status: e.booking?.status ?? null,
      date: e.booking?.date ?? null,
      untilFurtherNotice: e.booking?.untilFurtherNotice ?? null,
      changedAt: e.booking?.at ?? null,
      progress: e.progress ? { action: e.progress.action, at: e.progress.at } : null,
    })),
    updatedAt: doc.updatedAt,
  };
}
