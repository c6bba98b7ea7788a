/**
 * Timer triggers: NCRONTAB six-field schedules (`{second} {minute} {hour} {day} {month} {day-of-week}`,
 * parsed by cron-parser), `runOnStartup`, `isPastDue` when a run starts late, and never two runs of one
 * timer at once: the next run is scheduled only when the current one has finished; occurrences missed
 * meanwhile collapse into one immediate, past-due run. Delays of any length (setTimeout is chained below
 * 2^31 ms). With several instances on one storage account, a timer runs only on the instance that holds
 * its singleton lock (singleton.ts); the others skip the occurrence.
 */
import { CronExpressionParser } from 'cron-parser';
import type { IndexedFunction } from './app';
import type { HostLog } from './invocation';
import { invoke, timerTriggerData, type WriterFor } from './rpc';
import type { ListenerLock } from './singleton';

/** setTimeout's largest delay (2^31 - 1 ms, about 24.8 days); longer waits are chained. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Calls `fn` at `at` (or at once if past), chaining timeouts below 2^31 ms; `set` receives each handle. */
export function setLongTimeout(fn: () => void, at: number, set: (t: NodeJS.Timeout) => void, now: () => number = Date.now): void {
  const left = at - now();
  if (left > MAX_TIMEOUT_MS) set(setTimeout(() => setLongTimeout(fn, at, set, now), MAX_TIMEOUT_MS));
  else set(setTimeout(fn, Math.max(0, left)));
}

/** A run that starts more than this late counts as past due. */
const PAST_DUE_MARGIN_MS = 1000;

/** Validates an NCRONTAB expression (exactly six fields) and returns the next occurrence after `from`. */
export function nextOccurrence(schedule: string, from: Date): Date {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new Error(`timer schedule "${schedule}" must have six fields (NCRONTAB: second minute hour day month day-of-week)`);
  }
  return CronExpressionParser.parse(schedule, { currentDate: from }).next().toDate();
}

export class TimerRunner {
  private timeout?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private last?: Date;
  readonly schedule: string;
  readonly functionName: string;
  readonly runsOnStartup: boolean;
  /** Number of runs started (tests and diagnostics). */
  runs = 0;
  /** Occurrences skipped because another instance holds the singleton lock. */
  skipped = 0;

  constructor(
    private readonly def: IndexedFunction,
    private readonly log: HostLog,
    private readonly writer: WriterFor,
    /** The timer's singleton lock (none: this instance runs every occurrence). */
    private readonly lock?: ListenerLock,
  ) {
    this.functionName = def.name;
    this.schedule = String(def.trigger.schedule);
    this.runsOnStartup = def.trigger.runOnStartup === true;
    nextOccurrence(this.schedule, new Date()); // fail start-up on a bad schedule
  }

  start(): void {
    if (this.runsOnStartup) this.fire(new Date(), 'runOnStartup');
    else this.scheduleFrom(new Date());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timeout) clearTimeout(this.timeout);
    await this.running;
    await this.lock?.release();
  }

  private scheduleFrom(from: Date): void {
    if (this.stopped) return;
    const next = nextOccurrence(this.schedule, from);
    setLongTimeout(
      () => this.fire(next, 'Timer fired'),
      next.getTime(),
      (t) => (this.timeout = t),
    );
  }

  private fire(scheduledAt: Date, reason: string): void {
    if (this.stopped || this.running) return;
    const startedAt = new Date();
    const next = nextOccurrence(this.schedule, startedAt);
    const data = timerTriggerData(this.def, {
      isPastDue: reason !== 'runOnStartup' && startedAt.getTime() - scheduledAt.getTime() > PAST_DUE_MARGIN_MS,
      last: this.last ?? new Date(0),
      next,
      lastUpdated: startedAt,
    });
    const lock = this.lock;
    this.running = (lock ? lock.ensure() : Promise.resolve(true))
      .then((held) => {
        if (this.stopped) return;
        if (!held) {
          this.skipped++;
          return;
        }
        this.runs++;
        return invoke(this.def, this.log, `${reason} at ${scheduledAt.toISOString()}`, data, this.writer).then(() => undefined);
      })
      .then(
        () => undefined,
        () => undefined,
      ) // logged by invoke; a failed run does not stop the schedule
      .finally(() => {
        this.running = undefined;
        this.last = startedAt;
        if (this.stopped) return;
        const due = nextOccurrence(this.schedule, scheduledAt > startedAt ? scheduledAt : startedAt);
        if (due.getTime() <= Date.now()) this.fire(due, 'Timer fired (missed while the previous run was still going)');
        else this.scheduleFrom(new Date());
      });
  }
}
