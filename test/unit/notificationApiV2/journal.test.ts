import { decodeMessageText } from '../../helpers/queues';
import { encodeMessage } from '../../../shared/queue/writer';
import { journalEntryName, messagesFor, newRunId, notificationType, type JournalEntry } from '../../../shared/notificationApiV2/journal';

const entry: JournalEntry = {
  version: 1,
  subscriptionId: 'sub1',
  source: 'https://tenant.example.com',
  readAt: '2026-11-23T12:00:00.000Z',
  page: 1,
  results: [
    { version: 'V2', event_type_id: '301', timestamp: '2022-05-20T06:36:35.078584Z', user: { id: 'u1' } },
    { version: 'V2', event_type_id: 102 },
    { version: 'V2' },
  ],
};

describe('notifications journal', () => {
  it('names entries so they sort by run and page', () => {
    const a = newRunId(new Date('2026-11-23T12:00:00.000Z'));
    const b = newRunId(new Date('2026-11-23T12:00:01.000Z'));
    expect(a).toMatch(/^20261123T120000000Z-[0-9a-f]{6}$/);
    expect([journalEntryName(b, 1), journalEntryName(a, 10), journalEntryName(a, 2)].sort()).toEqual([
      journalEntryName(a, 2),
      journalEntryName(a, 10),
      journalEntryName(b, 1),
    ]);
  });

  it('builds one CloudEvent per notification with deterministic ids, the API as source and event_type_id as type', () => {
    const name = 'notifications/20261123T120000000Z-abcdef/000001';
    const first = messagesFor(name, entry, { queue: 'notifications-v2', format: 'cloudevents' });
    const again = messagesFor(name, entry, { queue: 'notifications-v2', format: 'cloudevents' });
    expect(again).toEqual(first);
    expect(first.map((m) => (m.body as { id: string }).id)).toEqual([`${name}:0`, `${name}:1`, `${name}:2`]);
    expect(first[0]).toEqual({
      queue: 'notifications-v2',
      key: `${name}:0`,
      body: {
        specversion: '1.0',
        id: `${name}:0`,
        source: 'https://tenant.example.com',
        type: '301',
        time: '2022-05-20T06:36:35.078584Z',
        datacontenttype: 'application/json',
        data: entry.results[0],
      },
    });
    expect((first[1].body as { type: string; time: string }).type).toBe('102');
    expect(first[2].body as { type: string; time: string }).toMatchObject({ type: 'unknown', time: entry.readAt });
    // What the queue trigger decodes is the same envelope.
    expect(decodeMessageText(encodeMessage(first[0].body)).body).toEqual(first[0].body);
  });

  it('writes the notification alone in raw format', () => {
    const raw = messagesFor('n/1', entry, { queue: 'q-raw', format: 'raw' });
    expect(raw.map((m) => m.body)).toEqual(entry.results);
  });

  it('derives the type from event_type_id', () => {
    expect(notificationType({ event_type_id: '101' })).toBe('101');
    expect(notificationType({ event_type_id: 7 })).toBe('7');
    expect(notificationType({ event_type_id: '' })).toBe('unknown');
    expect(notificationType('text')).toBe('unknown');
  });
});
