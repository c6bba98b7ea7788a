import fc from 'fast-check';
import {
  applyChanges,
  deskBookingChanges,
  deskProgressionChanges,
  emptyDocument,
  meetingBookingChanges,
  meetingProgressionChanges,
  occupancyView,
  timeOrder,
  type OccupancyChange,
  type OccupancyDocument,
} from '../../../examples/occupancy/model';

const HOUR = 3_600_000;
const opts = { historyMs: 48 * HOUR, now: new Date('2026-11-23T12:00:00Z') };

function meeting(id: string, bookingId: number, action: number, at: string, resourceId = 96) {
  return {
    id,
    changes: meetingProgressionChanges({ id, time: '2026-11-23T12:00:00Z' }, [
      { BookingId: bookingId, ResourceItemId: resourceId, UpdatedTime: at, MeetingProgressionAction: action, ActionSource: 1 },
    ]),
  };
}

function applyAll(resourceId: number, events: { id: string; changes: OccupancyChange[] }[]): OccupancyDocument {
  let doc = emptyDocument(resourceId);
  for (const e of events) doc = applyChanges(doc, e.id, e.changes, opts).document;
  return doc;
}

describe('occupancy model', () => {
  test('times: offset-less local times compare as written; the .NET empty date is no time', () => {
    expect(timeOrder('2026-11-23T09:00:00')).toBe(Date.parse('2026-11-23T09:00:00Z'));
    expect(timeOrder('2026-11-23T09:00:00+02:00')).toBe(Date.parse('2026-11-23T07:00:00Z'));
    expect(timeOrder('0001-01-01T00:00:00')).toBeUndefined();
    expect(timeOrder('yesterday')).toBeUndefined();
    expect(timeOrder(undefined)).toBeUndefined();
  });

  test('start → occupied, extend keeps it, stop frees it', () => {
    const start = meeting('e1:0', 101, 0, '2026-11-23T09:00:00');
    const extend = meeting('e2:0', 101, 2, '2026-11-23T09:55:00');
    const stop = meeting('e3:0', 101, 1, '2026-11-23T10:30:00');
    let view = occupancyView(applyAll(96, [start]));
    expect(view).toMatchObject({
      resourceId: 96,
      kind: 'room',
      occupied: true,
      current: { bookingId: 101, since: '2026-11-23T09:00:00', lastAction: 'start', source: 'external' },
    });
    view = occupancyView(applyAll(96, [start, extend]));
    expect(view.current).toMatchObject({
      bookingId: 101,
      since: '2026-11-23T09:00:00',
      lastAction: 'extend',
      lastActionAt: '2026-11-23T09:55:00',
    });
    view = occupancyView(applyAll(96, [start, extend, stop]));
    expect(view.occupied).toBe(false);
    expect(view.current).toBeNull();
    expect(view.bookings).toEqual([expect.objectContaining({ bookingId: 101, progress: { action: 'stop', at: '2026-11-23T10:30:00' } })]);
  });

  test('a redelivered event changes nothing (not even updatedAt)', () => {
    const start = meeting('e1:0', 101, 0, '2026-11-23T09:00:00');
    const once = applyChanges(emptyDocument(96), start.id, start.changes, opts);
    expect(once.changed).toBe(true);
    const again = applyChanges(once.document, start.id, start.changes, { ...opts, now: new Date('2026-11-24T00:00:00Z') });
    expect(again.changed).toBe(false);
    expect(again.document).toBe(once.document);
    // Same facts under another id (e.g. the id fell out of the remembered window): still no change.
    const other = applyChanges(once.document, 'other:0', start.changes, opts);
    expect(other.changed).toBe(false);
  });

  test('out of order: a late START after its STOP leaves the room free', () => {
    const start = meeting('e1:0', 101, 0, '2026-11-23T09:00:00');
    const stop = meeting('e3:0', 101, 1, '2026-11-23T10:30:00');
    expect(occupancyView(applyAll(96, [stop, start])).occupied).toBe(false);
    expect(occupancyView(applyAll(96, [stop, start]))).toEqual(occupancyView(applyAll(96, [start, stop])));
  });

  test('the .NET empty UpdatedTime falls back to the envelope time', () => {
    const ref = (id: string, time: string) => ({ id, time });
    const item = (action: number) => ({
      BookingId: 5,
      ResourceItemId: 7,
      UpdateTime: '0001-01-01T00:00:00',
      DeskProgressionAction: action,
      ActionSource: 0,
    });
    const start = deskProgressionChanges(ref('a:0', '2026-11-23T09:00:00Z'), [item(0)]);
    const stop = deskProgressionChanges(ref('b:0', '2026-11-23T10:00:00Z'), [item(1)]);
    expect(start[0].value).toMatchObject({ at: '2026-11-23T09:00:00Z', order: Date.parse('2026-11-23T09:00:00Z') });
    let doc = applyChanges(emptyDocument(7), 'b:0', stop, opts).document;
    doc = applyChanges(doc, 'a:0', start, opts).document;
    expect(occupancyView(doc)).toMatchObject({ kind: 'desk', occupied: false });
  });

  test('two bookings: the one with the latest START/EXTEND is current', () => {
    const doc = applyAll(96, [
      meeting('e1:0', 1, 0, '2026-11-23T09:00:00'),
      meeting('e2:0', 2, 0, '2026-11-23T09:30:00'),
      meeting('e3:0', 2, 1, '2026-11-23T09:45:00'),
    ]);
    expect(occupancyView(doc).current).toMatchObject({ bookingId: 1 });
  });

  test('booking changes: desk and room bookings, deleted wins at the same instant', () => {
    const desk = deskBookingChanges({ id: 'd1:0', time: '2026-11-23T08:00:00Z' }, [
      { Date: '2026-11-24T00:00:00', BookingID: 102, ResourceItemID: 101, Action: 1, UntilFurtherNotice: false },
    ]);
    const deskDeleted = deskBookingChanges({ id: 'd2:0', time: '2026-11-23T08:00:00Z' }, [
      { Date: '2026-11-24T00:00:00', BookingID: 102, ResourceItemID: 101, Action: 0, UntilFurtherNotice: false },
    ]);
    let doc = applyAll(101, [
      { id: 'd2:0', changes: deskDeleted },
      { id: 'd1:0', changes: desk },
    ]);
    expect(occupancyView(doc).bookings).toEqual([
      {
        bookingId: 102,
        status: 'deleted',
        date: '2026-11-24T00:00:00',
        untilFurtherNotice: false,
        changedAt: '2026-11-23T08:00:00Z',
        progress: null,
      },
    ]);
    const room = meetingBookingChanges(
      { id: 'm1:0', time: '2026-11-23T08:00:00Z' },
      {
        '2019-08-28T00:00:00': {
          ChangedItems: [
            { Action: 1, BookingID: 99, ResourceItemID: 96 },
            { Action: 1, BookingID: 98, ResourceItemID: 97 },
          ],
        },
      },
    );
    expect(room.map((c) => c.resourceId)).toEqual([96, 97]);
    doc = applyAll(96, [{ id: 'm1:0', changes: room }]);
    expect(occupancyView(doc)).toMatchObject({
      kind: 'room',
      occupied: false,
      bookings: [{ bookingId: 99, status: 'active', date: '2019-08-28T00:00:00' }],
    });
  });

  test('unknown actions are reported as skipped, not applied', () => {
    const skipped: { reason: string }[] = [];
    const changes = meetingProgressionChanges(
      { id: 'x:0' },
      [{ BookingId: 1, ResourceItemId: 2, UpdatedTime: '2026-11-23T09:00:00', MeetingProgressionAction: 7, ActionSource: 0 }],
      skipped as never,
    );
    expect(changes).toEqual([]);
    expect(skipped).toEqual([expect.objectContaining({ reason: 'unknown progression action 7' })]);
  });

  test('history window: old bookings are dropped and older events ignored', () => {
    const old = meeting('o:0', 1, 0, '2026-11-20T09:00:00');
    const recent = meeting('r:0', 2, 0, '2026-11-23T09:00:00');
    let doc = applyAll(96, [old, recent]);
    expect(Object.keys(doc.bookings)).toEqual(['2']);
    const late = applyChanges(doc, 'o2:0', meeting('o2:0', 3, 0, '2026-11-19T09:00:00').changes, opts);
    expect(late.stale).toBe(1);
    expect(late.changed).toBe(false);
    doc = applyAll(96, [recent, old]);
    expect(Object.keys(doc.bookings)).toEqual(['2']);
  });

  test('any order, any duplicates: the same resulting view (property)', () => {
    const eventArb = fc.record({
      booking: fc.integer({ min: 1, max: 3 }),
      action: fc.integer({ min: 0, max: 2 }),
      minute: fc.integer({ min: 0, max: 20 }),
    });
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 12 }), fc.integer(), (specs, seed) => {
        const events = specs.map((s, i) =>
          meeting(`ev${i}:0`, s.booking, s.action, `2026-11-23T09:${String(s.minute).padStart(2, '0')}:00`),
        );
        const inOrder = occupancyView(applyAll(96, events));
        // Shuffle deterministically and add duplicates.
        const shuffled = [...events, ...events.filter((_, i) => (i + seed) % 3 === 0)];
        let s = Math.abs(seed) + 1;
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) % 2147483648;
          const j = s % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        const view = occupancyView(applyAll(96, shuffled));
        expect({ ...view, updatedAt: '' }).toEqual({ ...inOrder, updatedAt: '' });
      }),
      { numRuns: 200 },
    );
  });
});
