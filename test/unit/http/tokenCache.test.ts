import { TokenCache } from '../../../shared/http/tokenCache';

function cache(now: () => number) {
  let n = 0;
  const calls: string[] = [];
  let fail = false;
  const tokens = new TokenCache({
    refreshMarginMs: 60_000,
    now,
    fetch: async () => {
      await new Promise((r) => setImmediate(r));
      if (fail) throw new Error('token endpoint down');
      calls.push(`t${++n}`);
      return { value: `t${n}`, expiresInMs: 3600_000 };
    },
  });
  return { tokens, calls, failNext: (v: boolean) => (fail = v) };
}

describe('TokenCache', () => {
  test('single flight: concurrent callers share one fetch', async () => {
    const { tokens, calls } = cache(() => 0);
    const values = await Promise.all(Array.from({ length: 20 }, () => tokens.get()));
    expect(new Set(values)).toEqual(new Set(['t1']));
    expect(calls).toEqual(['t1']);
    expect(tokens.fetched).toBe(1);
  });

  test('refreshed refreshMarginMs before it expires', async () => {
    let now = 0;
    const { tokens } = cache(() => now);
    expect(await tokens.get()).toBe('t1');
    now = 3600_000 - 60_001;
    expect(await tokens.get()).toBe('t1');
    now = 3600_000 - 60_000;
    expect(await tokens.get()).toBe('t2');
  });

  test('invalidate drops only the token still cached (a 401 with an old token does not drop a new one)', async () => {
    const { tokens } = cache(() => 0);
    const first = await tokens.get();
    tokens.invalidate(first);
    const second = await tokens.get();
    expect(second).toBe('t2');
    tokens.invalidate(first);
    expect(await tokens.get()).toBe('t2');
  });

  test('a failed fetch is not cached', async () => {
    const { tokens, failNext } = cache(() => 0);
    failNext(true);
    await expect(Promise.all([tokens.get(), tokens.get()])).rejects.toThrow('token endpoint down');
    failNext(false);
    expect(await tokens.get()).toBe('t1');
  });
});
