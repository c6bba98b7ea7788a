/**
 * Timer triggers: NCRONTAB six-field schedules (`{second} {minute} {hour} {day} {month} {day-of-week}`,
 * parsed by cron-parser), `runOnStartup`, `isPastDue` when a run starts late, and never two runs of one
 * timer at once: the next run is scheduled only when the current one has finished; occurrences missed
 * meanwhile collapse into one immediate, past-due run.
 */
import { CronExpressionParser } from 'cron-parser';
import type { IndexedFunction } from './app';
import type { HostLog } from './invocation';
import { invoke, timerTriggerData, type WriterFor } from './rpc';

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

  constructor(
    private readonly def: IndexedFunction,
    private readonly log: HostLog,
    private readonly writer: WriterFor,
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
  }

  private scheduleFrom(from: Date): void {
    if (this.stopped) return;
    const next = nextOccurrence(this.schedule, from);
    this.timeout = setTimeout(() => this.fire(next, 'Timer fired'), Math.max(0, next.getTime() - Date.now()));
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
    this.runs++;
    this.running = invoke(this.def, this.log, `${reason} at ${scheduledAt.toISOString()}`, data, this.writer)
      .then(() => undefined, () => undefined) // logged by invoke; a failed run does not stop the schedule
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
