/**
 * Admission control of the webhook (per instance): a request is refused (503 + Retry-After) before its
 * first write when its messages would take the messages in flight over the budget
 * (ENGAGE_WEBHOOK_MAX_IN_FLIGHT_MESSAGES), or when the write time estimated from recent writes would pass
 * its storage deadline. A request is always admitted when nothing is in flight (it can only be refused by
 * its own size, which is ENGAGE_WEBHOOK_MAX_BYTES's job), and requests of up to SMALL_REQUEST_MESSAGES
 * messages are judged by the budget alone, so a normal push is never shed while the budget has room.
 */

/** Requests of at most this many messages are never shed by the time estimate. */
export const SMALL_REQUEST_MESSAGES = 32;
/** Weight of the newest sample in the write-rate estimate (exponentially weighted). */
const RATE_WEIGHT = 0.3;
/** Busy time below this is too short to measure a rate from. */
const MIN_SAMPLE_MS = 50;

/** `release(true)` when the writes succeeded (they count in the rate), `release(false)` when they failed. */
export type Admitted = { ok: true; release(succeeded: boolean): void };
export type Shed = { ok: false; reason: 'budget' | 'time'; retryAfterSeconds: number; estimateMs?: number };

export class Admission {
  private inFlightMessages = 0;
  /** Messages written per ms by this instance while it was writing; undefined until measured. */
  private rate: number | undefined;
  private busySince = 0;
  private busyMs = 0;
  private writtenSinceSample = 0;

  constructor(
    private readonly budget: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get inFlight(): number {
    return this.inFlightMessages;
  }

  /** Messages per second, as measured (undefined before the first measurable write). */
  get messagesPerSecond(): number | undefined {
    return this.rate === undefined ? undefined : this.rate * 1000;
  }

  /** Whether `messages` more may be written now, given `remainingMs` until the request's deadline. */
  admit(messages: number, remainingMs: number): Admitted | Shed {
    if (this.inFlightMessages > 0) {
      const after = this.inFlightMessages + messages;
      const retryAfterSeconds = Math.max(1, Math.ceil(this.rate ? after / this.rate / 1000 : 1));
      if (after > this.budget) return { ok: false, reason: 'budget', retryAfterSeconds };
      if (messages > SMALL_REQUEST_MESSAGES && this.rate !== undefined) {
        // The instance writes at `rate` in all: this request's last message lands after everything in flight.
        const estimateMs = after / this.rate;
        if (estimateMs > remainingMs) return { ok: false, reason: 'time', retryAfterSeconds, estimateMs };
      }
    }
    this.update(0);
    if (this.inFlightMessages === 0) this.busySince = this.now();
    this.inFlightMessages += messages;
    let released = false;
    return {
      ok: true,
      release: (succeeded: boolean) => {
        if (released) return;
        released = true;
        this.update(messages, succeeded);
      },
    };
  }

  /** Accounts busy time up to now; `done` messages finished (their request's writes ended). */
  private update(done: number, succeeded = true): void {
    const t = this.now();
    if (this.inFlightMessages > 0) {
      this.busyMs += t - this.busySince;
      this.busySince = t;
    }
    if (done === 0) return;
    this.inFlightMessages -= done;
    if (!succeeded) return;
    this.writtenSinceSample += done;
    if (this.busyMs >= MIN_SAMPLE_MS) {
      const sample = this.writtenSinceSample / this.busyMs;
      this.rate = this.rate === undefined ? sample : RATE_WEIGHT * sample + (1 - RATE_WEIGHT) * this.rate;
      this.writtenSinceSample = 0;
      this.busyMs = 0;
    }
  }
}
