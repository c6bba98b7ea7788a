import { UpstreamError, isRetryable, isRetryableStatus } from '../../../shared/http/error';
import { UpstreamError as ReExported } from '../../../shared/errors';

describe('UpstreamError', () => {
  test('retryable from the status unless said otherwise; transient is the same', () => {
    expect([undefined, 500, 502, 503, 408, 429].map(isRetryableStatus)).toEqual([true, true, true, true, true, true]);
    expect([200, 400, 401, 403, 404, 409].map(isRetryableStatus)).toEqual([false, false, false, false, false, false]);
    const unreadable = new UpstreamError('unreadable', 200, undefined, 'INVALID_RESPONSE', { retryable: true });
    expect([unreadable.retryable, unreadable.transient, isRetryable(unreadable)]).toEqual([true, true, true]);
    expect(isRetryable(new UpstreamError('no', 403, undefined))).toBe(false);
    expect(isRetryable(Object.assign(new Error('x'), { status: 503 }))).toBe(false);
  });

  test('message and body are redacted of credential-shaped fields; the cause is kept', () => {
    const cause = new Error('socket hang up');
    const e = new UpstreamError(
      'failed: client_secret=abc123',
      500,
      { access_token: 'tok', echo: 'Authorization: Bearer abcdefghijkl' },
      undefined,
      { cause, retryAfterMs: 1500 },
    );
    expect(e.message).toBe('failed: client_secret=***');
    expect(JSON.stringify(e.body)).not.toMatch(/tok"|abcdefghijkl/);
    expect(e.cause).toBe(cause);
    expect(e.retryAfterMs).toBe(1500);
  });

  test('shared/errors re-exports the same class', () => {
    expect(ReExported).toBe(UpstreamError);
  });
});
