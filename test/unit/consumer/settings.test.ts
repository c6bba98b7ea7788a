import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../shared/config/settings';
import { ConfigError } from '../../../shared/errors';
import { parseResourceId } from '../../../examples/occupancy/api';
import { OCCUPANCY_TYPES } from '../../../examples/occupancy/consumer';
import { engageEventType } from '../../../shared/engage/events';
import { decodePoisonText, poisonPair, summarize } from '../../../shared/poison/queues';
import { metricLine } from '../../../shared/poison/monitor';
import { formatStatus } from '../../../shared/status/collect';
import { loadCliSettings } from '../../../cli/settings';

const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('consumer settings', () => {
  test('defaults', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      OCCUPANCY_CONTAINER: 'occupancy',
      OCCUPANCY_MEETING_PROGRESSION_QUEUE: 'engage-meetingprogression',
      OCCUPANCY_DESK_PROGRESSION_QUEUE: 'engage-deskprogression',
      OCCUPANCY_MEETING_EXTERNAL_QUEUE: 'engage-meetingexternal',
      OCCUPANCY_DESK_QUEUE: 'engage-desk',
      OCCUPANCY_HISTORY_HOURS: 48,
      POISON_MONITOR_SCHEDULE: '0 */5 * * * *',
    });
  });

  test('bad values are named', () => {
    expect(() =>
      loadConfig({ ...base, OCCUPANCY_DESK_QUEUE: 'Desk_Q', POISON_MONITOR_SCHEDULE: '*/5 * * * *', OCCUPANCY_HISTORY_HOURS: '0' }),
    ).toThrow(ConfigError);
    try {
      loadConfig({ ...base, OCCUPANCY_DESK_QUEUE: 'Desk_Q', POISON_MONITOR_SCHEDULE: '*/5 * * * *', OCCUPANCY_HISTORY_HOURS: '0' });
    } catch (err) {
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/OCCUPANCY_DESK_QUEUE: must be a queue name/);
      expect(problems).toMatch(/POISON_MONITOR_SCHEDULE: must be an NCRONTAB expression with six fields/);
      expect(problems).toMatch(/OCCUPANCY_HISTORY_HOURS/);
    }
  });

  test('occupancy event types follow the contract', () => {
    expect(OCCUPANCY_TYPES).toEqual({
      meetingProgression: engageEventType('MEETINGPROGRESSION'),
      deskProgression: engageEventType('DESKPROGRESSION'),
      meetingExternal: engageEventType('MEETINGEXTERNAL'),
      desk: engageEventType('DESK'),
    });
  });

  test('resource ids: positive 32-bit integers only', () => {
    expect(parseResourceId('96')).toBe(96);
    expect(parseResourceId('2147483647')).toBe(2147483647);
    for (const bad of ['0', '-1', '01', '1.5', 'abc', '2147483648', '', undefined, '9'.repeat(11)])
      expect(parseResourceId(bad)).toBeUndefined();
  });
});

describe('poison helpers', () => {
  test('queue or poison queue name → both', () => {
    expect(poisonPair('engage-desk')).toEqual({ source: 'engage-desk', poison: 'engage-desk-poison' });
    expect(poisonPair('engage-desk-poison')).toEqual({ source: 'engage-desk', poison: 'engage-desk-poison' });
    expect(() => poisonPair('Bad_Name')).toThrow(/is not a queue name/);
    expect(() => poisonPair('a'.repeat(60))).toThrow(/-poison name must fit/);
  });

  test('decode and summarise messages', () => {
    const b64 = Buffer.from(JSON.stringify({ id: 'x:0', type: 't', subject: '5', data: {} })).toString('base64');
    const body = decodePoisonText(b64);
    expect(summarize(body)).toBe('id=x:0 type=t subject=5');
    expect(decodePoisonText('not base64!')).toBe('not base64!');
    expect(summarize('y'.repeat(100))).toHaveLength(80);
    expect(metricLine({ name: 'a-poison', sourceQueue: 'a', depth: 2 })).toBe(
      'PoisonQueueDepth {"queue":"a-poison","sourceQueue":"a","depth":2}',
    );
  });

  test('status text', () => {
    const text = formatStatus({
      storage: 'connectionString',
      queues: [{ name: 'engage-desk', depth: 3 }],
      poisonQueues: [{ name: 'engage-desk-poison', depth: 1 }],
      deadLetter: { name: 'engage-deadletter', depth: 2 },
      notifications: {
        subscription: { id: 'sub-1', createdAt: '2026-11-23T00:00:00Z' },
        lastRun: { finishedAt: '2026-11-23T01:00:00Z', drained: 4, backlog: 7 },
        journalPending: 2,
        quarantined: 0,
        backlog: 7,
      },
      noojee: { cursor: { seq: 42, updatedAt: '2026-11-23T01:00:00Z' }, lastRun: null },
    });
    expect(text).toContain('engage-desk           3');
    expect(text).toContain('Poison queues (replay with: engage-bridge poison replay --queue <queue>):');
    expect(text).toMatch(/Dead-letter queue .*:\n {2}engage-deadletter +2\n/);
    expect(text).toContain('subscription: sub-1 (created 2026-11-23T00:00:00Z)');
    expect(text).toContain('last run: finished 2026-11-23T01:00:00Z, drained 4');
    expect(text).toContain('backlog: 7, 2 journal entries pending replay');
    expect(text).toContain('cursor: seq 42 (updated 2026-11-23T01:00:00Z)');
    expect(text).toMatch(/Noojee call events:\n {2}cursor: .*\n {2}last run: never/);
  });
});

describe('CLI settings', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cli-settings-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('local.settings.json fills what the environment leaves unset', () => {
    writeFileSync(
      join(dir, 'local.settings.json'),
      JSON.stringify({ IsEncrypted: false, Values: { AzureWebJobsStorage: 'from-file', CHECKPOINT_CONTAINER: 'cp-file' } }),
    );
    const s = loadCliSettings(dir, { CHECKPOINT_CONTAINER: 'cp-env', EMPTY: '' });
    expect(s.file).toBe(join(dir, 'local.settings.json'));
    expect(s.env).toMatchObject({ AzureWebJobsStorage: 'from-file', CHECKPOINT_CONTAINER: 'cp-env' });
    expect(s.env.EMPTY).toBeUndefined();
  });

  test('no settings file: the environment alone', () => {
    expect(loadCliSettings(dir, { AzureWebJobsStorage: 'x' })).toEqual({ env: { AzureWebJobsStorage: 'x' }, file: undefined });
  });
});
