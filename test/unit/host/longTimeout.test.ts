import { MAX_TIMEOUT_MS, setLongTimeout } from '../../../local/host/timer';
import { listenerLockBlob, readSingletonSettings, sanitizeHostId } from '../../../local/host/singleton';

describe('setLongTimeout (timers more than 24.8 days away)', () => {
  afterEach(() => jest.useRealTimers());

  it('does not fire early when the delay exceeds 2^31 ms, and fires at the due time', () => {
    jest.useFakeTimers({ now: 0 });
    const fired = jest.fn();
    const due = 40 * 24 * 3600 * 1000; // 40 days
    setLongTimeout(fired, due, () => undefined);
    jest.advanceTimersByTime(MAX_TIMEOUT_MS);
    expect(fired).not.toHaveBeenCalled();
    jest.advanceTimersByTime(due - MAX_TIMEOUT_MS - 1);
    expect(fired).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('fires at once for a time in the past, and hands back every handle so the runner can clear it', () => {
    jest.useFakeTimers({ now: 1000 });
    const fired = jest.fn();
    const handles: NodeJS.Timeout[] = [];
    setLongTimeout(fired, 0, (t) => handles.push(t));
    jest.advanceTimersByTime(0);
    expect(fired).toHaveBeenCalledTimes(1);
    expect(handles).toHaveLength(1);
  });
});

describe('timer singleton naming (as the Functions host)', () => {
  it('names the listener lock locks/<hostId>/Host.Functions.<name>.Listener', () => {
    expect(listenerLockBlob('engage-bridge', 'callEvents')).toBe('locks/engage-bridge/Host.Functions.callEvents.Listener');
  });
  it('derives a host id of at most 32 lowercase characters, and an explicit one wins', () => {
    expect(sanitizeHostId('@Scope/Engage_Bridge-with-a-very-long-name-indeed')).toHaveLength(32);
    expect(readSingletonSettings({}, 'engage-bridge').hostId).toBe('engage-bridge');
    expect(readSingletonSettings({ AzureFunctionsWebHost__hostid: 'mine' }, 'engage-bridge').hostId).toBe('mine');
  });
  it("keeps the lock period within a blob lease's limits (15-60 s, default 60)", () => {
    expect(readSingletonSettings({}).lockPeriodSeconds).toBe(60);
    expect(readSingletonSettings({ LOCAL_SINGLETON_LOCK_PERIOD_SECONDS: '15' }).lockPeriodSeconds).toBe(15);
    expect(() => readSingletonSettings({ LOCAL_SINGLETON_LOCK_PERIOD_SECONDS: '5' })).toThrow(/15 to 60/);
  });
  it('takes the lock only when LOCAL_SINGLETON_LOCK is true (set by --instances), so a lone host restarted after SIGKILL does not wait', () => {
    expect(readSingletonSettings({}).disabled).toBe(true);
    expect(readSingletonSettings({ LOCAL_SINGLETON_LOCK: 'true' }).disabled).toBe(false);
  });
});
