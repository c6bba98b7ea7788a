import { NotificationApiError, isSubscriptionNotFound, isTransient } from '../../../shared/notificationApiV2/errors';
import { withRetry } from '../../../shared/notificationApiV2/retry';
import { apiError } from '../../../shared/notificationApiV2/client';

describe('notifications errors and retry', () => {
  it('parses both error body styles into typed errors', () => {
    const e = apiError(
      'GET /x',
      404,
      JSON.stringify({
        error_code: 'NOT000006',
        message: 'Subscription not found',
        description: 'Subscription with id [1] for client_id [user] does not exist.',
      }),
    );
    expect(e).toBeInstanceOf(NotificationApiError);
    expect(e.code).toBe('NOT000006');
    expect(e.status).toBe(404);
    expect(e.description).toMatch(/does not exist/);
    expect(e.message).toBe(
      'GET /x failed: HTTP 404 NOT000006 Subscription not found: Subscription with id [1] for client_id [user] does not exist.',
    );
    expect(isSubscriptionNotFound(e)).toBe(true);
    expect(apiError('DELETE /x', 400, JSON.stringify({ code: 'NOT000001', description: 'bad' })).code).toBe('NOT000001');
    expect(apiError('token', 400, JSON.stringify({ error: 'invalid_grant', error_description: 'nope' })).code).toBe('invalid_grant');
    const html = apiError('GET /y', 502, '<html>bad gateway</html>');
    expect(html.code).toBeUndefined();
    expect(html.transient).toBe(true);
  });

  it('classifies transient failures', () => {
    expect(isTransient(new NotificationApiError('x', 503, undefined, undefined))).toBe(true);
    expect(isTransient(new NotificationApiError('x', 429, undefined, undefined))).toBe(true);
    expect(isTransient(new NotificationApiError('x', undefined, undefined, 'TIMEOUT'))).toBe(true);
    expect(isTransient(new NotificationApiError('x', 403, undefined, undefined))).toBe(false);
    expect(isTransient(new Error('x'))).toBe(false);
  });

  it('retries transient failures with back-off, then gives up', async () => {
    let calls = 0;
    const delays: number[] = [];
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new NotificationApiError('down', 503, undefined, undefined);
        },
        { attempts: 3, baseDelayMs: 10, onRetry: (_e, _a, d) => delays.push(d) },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(4);
    expect(delays).toHaveLength(3);
    expect(delays[2]).toBeGreaterThan(delays[0]);
  });

  it('does not retry permanent failures and returns the first success', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new NotificationApiError('forbidden', 403, undefined, undefined);
        },
        { attempts: 3, baseDelayMs: 1 },
      ),
    ).rejects.toThrow('forbidden');
    expect(calls).toBe(1);
    let n = 0;
    await expect(
      withRetry(
        async () => {
          if (n++ < 2) throw new NotificationApiError('t', undefined, undefined, 'TIMEOUT');
          return 'ok';
        },
        { attempts: 3, baseDelayMs: 1 },
      ),
    ).resolves.toBe('ok');
  });
});
