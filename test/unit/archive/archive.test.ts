/** The archive's pure parts: blob names, hour folders of a window, CLI times, record filters, checkpoint names. */
import { matches, parseTime } from '../../../shared/archive/find';
import {
  archiveBlobName,
  archiveRecordSchema,
  hourPrefix,
  hoursBetween,
  newInstanceName,
  type ArchiveRecord,
} from '../../../shared/archive/record';
import { checkpointName } from '../../../shared/archive/replay';

const at = new Date('2026-12-05T09:59:59.999Z');

test('blob names: <source>/<yyyy>/<mm>/<dd>/<hh>/<instance>[.<n>].jsonl, in UTC', () => {
  expect(hourPrefix('engage', at)).toBe('engage/2026/12/05/09/');
  expect(archiveBlobName('noojee', at, 'host-1a2b3c4d')).toBe('noojee/2026/12/05/09/host-1a2b3c4d.jsonl');
  expect(archiveBlobName('noojee', at, 'host-1a2b3c4d', 2)).toBe('noojee/2026/12/05/09/host-1a2b3c4d.2.jsonl');
  // Segments sort after the first blob of the instance, so a scan reads them in order.
  expect(['i.1.jsonl', 'i.jsonl', 'i.2.jsonl'].sort()).toEqual(['i.1.jsonl', 'i.2.jsonl', 'i.jsonl']);
});

test('instance names are blob-name safe, host-derived and distinct per process', () => {
  const a = newInstanceName({ WEBSITE_INSTANCE_ID: 'ABCDEF0123456789ABCDEF0123456789' });
  const b = newInstanceName({ WEBSITE_INSTANCE_ID: 'ABCDEF0123456789ABCDEF0123456789' });
  expect(a).toMatch(/^abcdef0123456789-[0-9a-f]{8}$/);
  expect(a).not.toBe(b);
  expect(newInstanceName({ WEBSITE_INSTANCE_ID: '' })).toMatch(/^[a-z0-9-]+-[0-9a-f]{8}$/);
});

test('a window covers every hour folder it touches, and only those', () => {
  const hours = hoursBetween(new Date('2026-12-05T09:59:00Z'), new Date('2026-12-05T12:00:00Z'));
  expect(hours.map((h) => h.toISOString())).toEqual([
    '2026-12-05T09:00:00.000Z',
    '2026-12-05T10:00:00.000Z',
    '2026-12-05T11:00:00.000Z',
    '2026-12-05T12:00:00.000Z',
  ]);
  expect(hoursBetween(at, at)).toHaveLength(1);
});

test('CLI times: ISO 8601, now, now-<n>m|h|d; anything else is refused with the accepted forms', () => {
  const now = new Date('2026-12-05T10:00:00Z');
  expect(parseTime('now', now)).toEqual(now);
  expect(parseTime('now-90m', now).toISOString()).toBe('2026-12-05T08:30:00.000Z');
  expect(parseTime('now-2h', now).toISOString()).toBe('2026-12-05T08:00:00.000Z');
  expect(parseTime('now-1d', now).toISOString()).toBe('2026-12-04T10:00:00.000Z');
  expect(parseTime('2026-12-05T09:15:00+01:00').toISOString()).toBe('2026-12-05T08:15:00.000Z');
  for (const bad of ['yesterday', '10:00', 'now-2w', '2026-13-45T99:00:00Z'])
    expect(() => parseTime(bad, now)).toThrow(/use ISO 8601 \(2026-12-05T10:00:00Z\), now, or now-<n>m\|h\|d/);
});

test('filters: the window is on archivedAt (inclusive); type, subject and id match exactly', () => {
  const r: ArchiveRecord = archiveRecordSchema.parse({
    v: 1,
    id: 'e:0',
    source: 'engage',
    type: 'com.eptura.engage.desk',
    subject: '42',
    queue: 'engage-desk',
    archivedAt: '2026-12-05T10:00:00.000Z',
    instance: 'h-1',
    message: '{}',
  });
  const window = { from: new Date('2026-12-05T10:00:00Z'), to: new Date('2026-12-05T10:00:00Z') };
  expect(matches(r, window)).toBe(true);
  expect(matches(r, { ...window, from: new Date('2026-12-05T10:00:00.001Z'), to: new Date('2026-12-05T11:00:00Z') })).toBe(false);
  expect(matches(r, { ...window, type: 'com.eptura.engage.desk', subject: '42', id: 'e:0' })).toBe(true);
  expect(matches(r, { ...window, type: 'com.eptura.engage' })).toBe(false);
  expect(matches(r, { ...window, subject: '4' })).toBe(false);
  expect(matches(r, { ...window, id: 'e:1' })).toBe(false);
});

test('the default checkpoint name depends on what was asked (as typed) and the queue, not on option order', () => {
  const a = checkpointName({ from: 'now-1h', to: 'now', type: 'x' }, 'engage-desk');
  expect(a).toBe(checkpointName({ type: 'x', to: 'now', from: 'now-1h' }, 'engage-desk'));
  expect(a).toMatch(/^engage-desk-[0-9a-f]{16}$/);
  expect(a).not.toBe(checkpointName({ from: 'now-1h', to: 'now', type: 'y' }, 'engage-desk'));
  expect(a).not.toBe(checkpointName({ from: 'now-1h', to: 'now', type: 'x' }, 'other'));
});
