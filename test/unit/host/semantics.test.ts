import { compileRoute } from '../../../local/host/http';
import { parseTimeSpan, resolveSettingRefs, readHostJson } from '../../../local/host/hostConfig';
import { decodeQueueMessage, PollBackoff } from '../../../local/host/queue';
import { nextOccurrence } from '../../../local/host/timer';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('timer schedules (NCRONTAB, six fields)', () => {
  test('every five minutes', () => {
    expect(nextOccurrence('0 */5 * * * *', new Date('2026-01-01T10:02:30Z')).toISOString()).toBe('2026-01-01T10:05:00.000Z');
  });
  test('seconds field', () => {
    expect(nextOccurrence('*/10 * * * * *', new Date('2026-01-01T10:00:01Z')).toISOString()).toBe('2026-01-01T10:00:10.000Z');
  });
  test('five-field cron is refused with a clear message', () => {
    expect(() => nextOccurrence('*/5 * * * *', new Date())).toThrow(/six fields/);
  });
  test('garbage is refused', () => {
    expect(() => nextOccurrence('a b c d e f', new Date())).toThrow();
  });
});

describe('queue polling', () => {
  test("back-off of an empty queue is the host's: 100 ms, then 100 ms + 100 × 2^(n-1) ms (randomized ±20 %), up to maxPollingInterval", () => {
    const middle = new PollBackoff(2000, () => 0.5);
    const delays = Array.from({ length: 8 }, () => middle.next(false));
    expect(delays.map(Math.round)).toEqual([100, 200, 300, 500, 900, 1700, 2000, 2000]);
    // The randomization factor bounds each step: 0.8 to 1.2 times the increment.
    const low = new PollBackoff(2000, () => 0);
    const high = new PollBackoff(2000, () => 0.999999);
    expect(Array.from({ length: 5 }, () => Math.round(low.next(false)))).toEqual([100, 180, 260, 420, 740]);
    expect(Array.from({ length: 5 }, () => Math.round(high.next(false)))).toEqual([100, 220, 340, 580, 1060]);
  });
  test('a poll that found messages starts the back-off again from 100 ms', () => {
    const b = new PollBackoff(2000, () => 0.5);
    for (let i = 0; i < 10; i++) b.next(false);
    expect(b.next(false)).toBe(2000);
    expect(b.next(true)).toBe(100);
    expect(Math.round(b.next(false))).toBe(200);
  });
  test('maxPollingInterval below the next step caps it', () => {
    const b = new PollBackoff(250, () => 0.5);
    expect([b.next(false), b.next(false), b.next(false)].map(Math.round)).toEqual([100, 200, 250]);
  });
  test('base64 is decoded to the message text; encoding none passes it as is', () => {
    expect(decodeQueueMessage(Buffer.from('{"a":1}').toString('base64'), 'base64')).toBe('{"a":1}');
    expect(decodeQueueMessage(Buffer.from('hello').toString('base64'), 'base64')).toBe('hello');
    expect(decodeQueueMessage('{"a":1}', 'none')).toBe('{"a":1}');
  });
  test('invalid base64 fails (and so ends in poison after retries)', () => {
    expect(() => decodeQueueMessage('not base64!', 'base64')).toThrow(/base64/);
  });
});

describe('host.json and settings', () => {
  test('TimeSpan parsing', () => {
    expect(parseTimeSpan('00:00:02')).toBe(2000);
    expect(parseTimeSpan('00:01:00')).toBe(60000);
    expect(parseTimeSpan('00:00:00.250')).toBe(250);
    expect(parseTimeSpan('1.00:00:00')).toBe(86400000);
    expect(() => parseTimeSpan('2s')).toThrow();
  });
  test('queue extension defaults and overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostjson-'));
    writeFileSync(join(dir, 'host.json'), JSON.stringify({ version: '2.0', extensions: { queues: { batchSize: 8 } } }));
    const q = readHostJson(dir, { extensions: { queues: { maxDequeueCount: 2 } } });
    expect(q).toEqual({
      maxPollingIntervalMs: 60000,
      visibilityTimeoutMs: 0,
      batchSize: 8,
      newBatchThreshold: 4,
      maxDequeueCount: 2,
      messageEncoding: 'base64',
    });
  });
  test('invalid host.json values are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostjson-'));
    writeFileSync(join(dir, 'host.json'), JSON.stringify({ extensions: { queues: { batchSize: 64 } } }));
    expect(() => readHostJson(dir)).toThrow(/batchSize/);
  });
  test('%SETTING% references resolve from the environment', () => {
    expect(resolveSettingRefs('%A%-x', { A: 'q' })).toBe('q-x');
    expect(() => resolveSettingRefs('%MISSING%', {})).toThrow("'%MISSING%' does not resolve to a value.");
    expect(() => resolveSettingRefs('%EMPTY%', { EMPTY: '' })).toThrow(/does not resolve/);
  });
});

describe('HTTP routes', () => {
  test('parameters, constraints and optional segments', () => {
    const r = compileRoute('occupancy/{resourceId:int}');
    expect(r.params).toEqual(['resourceId']);
    expect(r.pattern.exec('/occupancy/42')?.[1]).toBe('42');
    expect(r.pattern.test('/occupancy/abc')).toBe(false);
    const o = compileRoute('items/{id?}');
    expect(o.pattern.test('/items')).toBe(true);
    expect(o.pattern.exec('/items/7')?.[1]).toBe('7');
    expect(compileRoute('health').pattern.test('/HEALTH')).toBe(true);
  });
});
