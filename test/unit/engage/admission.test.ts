/** Admission control (shared/engage/admission.ts) on a fake clock. */
import { Admission, SMALL_REQUEST_MESSAGES } from '../../../shared/engage/admission';

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

test('the budget: admitted while it has room, refused past it, always admitted when nothing is in flight', () => {
  const c = clock();
  const a = new Admission(100, c.now);
  const big = a.admit(500, 10_000); // alone: admitted whatever its size
  expect(big.ok).toBe(true);
  expect(a.admit(1, 10_000)).toMatchObject({ ok: false, reason: 'budget' });
  if (big.ok) big.release(true);
  const first = a.admit(60, 10_000);
  expect(first.ok).toBe(true);
  expect(a.admit(40, 10_000).ok).toBe(true); // exactly the budget
  expect(a.admit(1, 10_000)).toMatchObject({ ok: false, reason: 'budget' });
  expect(a.inFlight).toBe(100);
});

test('the time estimate: from the measured write rate, a big request that would pass its deadline is refused; small ones are not', () => {
  const c = clock();
  const a = new Admission(1_000_000, c.now);
  const w = a.admit(1000, 10_000);
  c.advance(1000); // 1,000 messages in 1 s: 1 message/ms
  if (w.ok) w.release(true);
  expect(a.messagesPerSecond).toBeCloseTo(1000);
  const inFlight = a.admit(5000, 10_000);
  expect(inFlight.ok).toBe(true);
  // 5,000 in flight + 6,000 at 1/ms = 11 s > 10 s left.
  expect(a.admit(6000, 10_000)).toMatchObject({ ok: false, reason: 'time', retryAfterSeconds: 11 });
  expect(a.admit(4000, 10_000).ok).toBe(true);
  expect(a.admit(SMALL_REQUEST_MESSAGES, 1).ok).toBe(true); // small: judged by the budget alone
});

test('failed writes leave the rate alone and free their place', () => {
  const c = clock();
  const a = new Admission(100, c.now);
  const w = a.admit(100, 10_000);
  c.advance(10_000);
  if (w.ok) w.release(false);
  expect(a.messagesPerSecond).toBeUndefined();
  expect(a.inFlight).toBe(0);
});
