/** The upstream retry policy with an injected clock, randomness and sleep: assertions on the waits it asks for, never on wall-clock time. */
import { UpstreamError } from '../../../shared/http/error';
import { backoffDelay, decideRetry, parseRetryAfter, withRetry } from '../../../shared/http/retryPolicy';

const NOW = Date.UTC(2026, 11, 5, 1, 0, 0); // a whole second: HTTP-dates have second resolution

function failure(status: number | undefined, retryAfterMs?: number): UpstreamError {
  return new UpstreamError(`HTTP ${status}`, status, undefined, undefined, { retryAfterMs });
}

describe('parseRetryAfter', () => {
  test('delta-seconds', () => {
    expect(parseRetryAfter({ 'Retry-After': '2' }, NOW)).toBe(2000);
    expect(parseRetryAfter({ 'retry-after': ' 0 ' }, NOW)).toBe(0);
    expect(parseRetryAfter({ 'retry-after': '1.5' }, NOW)).toBe(1500);
  });
  test('HTTP-date (IMF-fixdate and the obsolete forms Date.parse reads); a past date is 0', () => {
    expect(parseRetryAfter({ 'retry-after': new Date(NOW + 5000).toUTCString() }, NOW)).toBe(5000);
    expect(parseRetryAfter({ 'retry-after': 'Sat, 05 Dec 2026 01:00:07 GMT' }, NOW)).toBe(7000);
    expect(parseRetryAfter({ 'retry-after': 'Saturday, 05-Dec-26 01:00:03 GMT' }, NOW)).toBe(3000);
    expect(parseRetryAfter({ 'retry-after': new Date(NOW - 60_000).toUTCString() }, NOW)).toBe(0);
  });
  test('retry-after-ms and x-ms-retry-after-ms (milliseconds) come first', () => {
    expect(parseRetryAfter({ 'retry-after-ms': '250', 'retry-after': '9' }, NOW)).toBe(250);
    expect(parseRetryAfter({ 'x-ms-retry-after-ms': '40' }, NOW)).toBe(40);
  });
  test('absent or unreadable: undefined', () => {
    expect(parseRetryAfter({}, NOW)).toBeUndefined();
    for (const v of ['', 'soon', '-1', '1e3', '12:00']) expect(parseRetryAfter({ 'retry-after': v }, NOW)).toBeUndefined();
  });
  test('reads a fetch Headers object', () => {
    expect(parseRetryAfter(new Headers({ 'Retry-After': '3' }), NOW)).toBe(3000);
  });
});

describe('backoffDelay', () => {
  test('exponential with ±20 % jitter, capped by maxDelayMs', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3].map((r) => backoffDelay(r, policy, () => 0))).toEqual([80, 160, 320, 640]);
    expect([0, 1, 2, 3].map((r) => backoffDelay(r, policy, () => 1))).toEqual([120, 240, 480, 960]);
    expect(backoffDelay(4, policy, () => 1)).toBe(1000);
    expect(backoffDelay(1000, policy, () => 0.5)).toBe(1000);
  });
});

describe('decideRetry', () => {
  const policy = { maxRetries: 3, baseDelayMs: 100 };
  const at = { now: () => NOW, random: () => 0.5 };

  test('retryable failures back off; others and the last attempt do not retry', () => {
    expect(decideRetry(failure(503), 0, policy, at)).toEqual({ retry: true, delayMs: 100, reason: 'backoff' });
    expect(decideRetry(failure(undefined), 1, policy, at)).toEqual({ retry: true, delayMs: 200, reason: 'backoff' });
    expect(decideRetry(failure(403), 0, policy, at)).toEqual({ retry: false, reason: 'not-retryable' });
    expect(decideRetry(new Error('bug'), 0, policy, at)).toEqual({ retry: false, reason: 'not-retryable' });
    expect(decideRetry(failure(503), 3, policy, at)).toEqual({ retry: false, reason: 'attempts' });
  });

  test('Retry-After is waited exactly (no jitter, never shortened by maxDelayMs)', () => {
    expect(decideRetry(failure(429, 2000), 0, { ...policy, maxDelayMs: 500 }, at)).toEqual({
      retry: true,
      delayMs: 2000,
      reason: 'retry-after',
    });
    expect(decideRetry(failure(503, 6000), 2, policy, at)).toEqual({ retry: true, delayMs: 6000, reason: 'retry-after' });
  });

  test('capped by the remaining budget: no retry whose wait ends at or after the deadline', () => {
    expect(decideRetry(failure(503, 6000), 0, policy, { ...at, deadline: NOW + 4000 })).toEqual({ retry: false, reason: 'deadline' });
    expect(decideRetry(failure(503, 3000), 0, policy, { ...at, deadline: NOW + 4000 })).toEqual({
      retry: true,
      delayMs: 3000,
      reason: 'retry-after',
    });
    expect(decideRetry(failure(503), 0, policy, { ...at, deadline: NOW + 50 })).toEqual({ retry: false, reason: 'deadline' });
  });

  test('a Retry-After beyond maxRetryAfterMs is not waited for', () => {
    expect(decideRetry(failure(429, 120_000), 0, { ...policy, maxRetryAfterMs: 60_000 }, at)).toEqual({
      retry: false,
      reason: 'retry-after-too-long',
    });
  });

  test('throttling mode retries only 429 / 503 that carry a Retry-After', () => {
    const throttling = { ...policy, retryOn: 'throttling' as const };
    expect(decideRetry(failure(503), 0, throttling, at)).toEqual({ retry: false, reason: 'not-retryable' });
    expect(decideRetry(failure(500, 1000), 0, throttling, at)).toEqual({ retry: false, reason: 'not-retryable' });
    expect(decideRetry(failure(undefined), 0, throttling, at)).toEqual({ retry: false, reason: 'not-retryable' });
    expect(decideRetry(failure(429, 1000), 0, throttling, at)).toEqual({ retry: true, delayMs: 1000, reason: 'retry-after' });
    expect(decideRetry(failure(503, 0), 0, throttling, at)).toEqual({ retry: true, delayMs: 0, reason: 'retry-after' });
  });
});

describe('withRetry', () => {
  function scripted(errors: UpstreamError[]) {
    let calls = 0;
    const fn = async () => {
      const e = errors[calls++];
      if (e) throw e;
      return 'ok';
    };
    return { fn, calls: () => calls };
  }

  test('waits what Retry-After asked (seconds and HTTP-date), back-off otherwise', async () => {
    let clock = NOW;
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      clock += ms;
    };
    const dateIn3s = parseRetryAfter({ 'retry-after': new Date(NOW + 3000).toUTCString() }, NOW);
    const { fn, calls } = scripted([failure(429, 2000), failure(503, dateIn3s), failure(502)]);
    await expect(withRetry(fn, { maxRetries: 5, baseDelayMs: 100, now: () => clock, random: () => 0.5, sleep })).resolves.toBe('ok');
    expect(calls()).toBe(4);
    expect(slept).toEqual([2000, 3000, 400]);
  });

  test('gives up at once, without waiting, when Retry-After reaches past the deadline', async () => {
    const slept: number[] = [];
    const { fn, calls } = scripted([failure(503, 6000)]);
    await expect(
      withRetry(fn, { maxRetries: 5, baseDelayMs: 100, deadline: NOW + 4000, now: () => NOW, sleep: async (ms) => void slept.push(ms) }),
    ).rejects.toMatchObject({ status: 503, retryAfterMs: 6000 });
    expect(calls()).toBe(1);
    expect(slept).toEqual([]);
  });

  test('the budget shrinks as time passes: retries stop before the deadline', async () => {
    let clock = NOW;
    const slept: number[] = [];
    const { fn, calls } = scripted(Array.from({ length: 10 }, () => failure(503, 1500)));
    await expect(
      withRetry(fn, {
        maxRetries: 10,
        baseDelayMs: 100,
        deadline: NOW + 5000,
        now: () => clock,
        sleep: async (ms) => {
          slept.push(ms);
          clock += ms;
        },
      }),
    ).rejects.toMatchObject({ status: 503 });
    expect(slept).toEqual([1500, 1500, 1500]);
    expect(calls()).toBe(4);
  });

  test('reports each retry and stops when the signal aborts', async () => {
    const controller = new AbortController();
    const seen: [number, number][] = [];
    const { fn, calls } = scripted([failure(503, 10), failure(503, 20), failure(503, 30)]);
    await expect(
      withRetry(fn, {
        maxRetries: 5,
        baseDelayMs: 1,
        signal: controller.signal,
        onRetry: (_e, retry, delay) => seen.push([retry, delay]),
        sleep: async (ms) => {
          if (ms === 20) controller.abort();
        },
      }),
    ).rejects.toMatchObject({ status: 503, retryAfterMs: 20 });
    expect(seen).toEqual([
      [1, 10],
      [2, 20],
    ]);
    expect(calls()).toBe(2);
  });
});
