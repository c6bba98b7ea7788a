/**
 * The sandbox PBX's call-event model: a global `seq` incremented per event, a bounded history so
 * that a subscriber passing an older `lastSequenceNumber` gets every event since, waiters for
 * long-polls, and scripted calls (ringing → connected → hungup, busy, no answer) whose legs have
 * their own uniqueCallId, as Asterisk channels do.
 */
export interface SandboxCallData {
  canAnswer: boolean;
  callerId: string;
  uniqueCallId: string;
  callStartTime: string;
  isQueueCall: boolean;
  isClickToDialCall: boolean;
  inbound: boolean;
  status: string;
  [extra: string]: unknown;
}

export interface SandboxEvent {
  seq: number;
  exten: string;
  entry: { CallData: SandboxCallData; CallID: number; Code: number };
}

export interface EventInput {
  exten: string;
  callData: Partial<SandboxCallData> & { status: string };
  callId?: number;
}

export type CallOutcome = 'answered' | 'busy' | 'no-answer';

export interface ScriptedCallOptions {
  from: string;
  to: string;
  outcome?: CallOutcome;
  /** How long the callee rings before the outcome (auto-answer, no answer). Default 200 ms. */
  ringMs?: number;
  /** How long an answered call lasts before both hang up. Default 500 ms. */
  talkMs?: number;
  /** `command`: the call rings until an `answer` command names its callee leg (then talks `talkMs`). */
  answerBy?: 'auto' | 'command';
}

export interface CallLegs {
  /** uniqueCallId of the caller's leg (on `from`). */
  caller: string;
  /** uniqueCallId of the callee's leg (on `to`): pass it to `answer` as uniqueId. */
  callee: string;
}

interface ActiveCall extends CallLegs {
  from: string;
  to: string;
  state: 'ringing' | 'connected' | 'ended';
  startTime: string;
  talkMs: number;
  callIds: { caller: number; callee: number };
  timers: NodeJS.Timeout[];
}

type Waiter = (current: number) => void;

export class CallModel {
  private history: SandboxEvent[] = [];
  private waiters = new Set<Waiter>();
  private calls: ActiveCall[] = [];
  private nextCallId = 1;
  private channelCounter = 480;
  private stopped = false;
  seq: number;

  constructor(
    initialSeq: number,
    private readonly maxHistory = 10_000,
  ) {
    this.seq = initialSeq;
  }

  /** Appends events atomically (one long-poll answer sees all or none); returns the last seq. */
  emit(inputs: readonly EventInput[]): number {
    for (const input of inputs) {
      this.seq++;
      this.history.push({
        seq: this.seq,
        exten: input.exten,
        entry: { CallData: callData(input.callData), CallID: input.callId ?? this.nextCallId++, Code: 0 },
      });
    }
    if (this.history.length > this.maxHistory) this.history.splice(0, this.history.length - this.maxHistory);
    for (const w of [...this.waiters]) w(this.seq);
    return this.seq;
  }

  /** Events after `seq` on the given extensions. */
  since(seq: number, extensions: readonly string[]): SandboxEvent[] {
    return this.history.filter((e) => e.seq > seq && extensions.includes(e.exten));
  }

  /** Current state: each extension's latest event (what Noojee answers for lastSequenceNumber=0). */
  currentState(extensions: readonly string[]): SandboxEvent[] {
    const latest = new Map<string, SandboxEvent>();
    for (const e of this.history) if (extensions.includes(e.exten)) latest.set(e.exten, e);
    return [...latest.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Calls `onEvent` after each emit until the returned function is called. */
  watch(onEvent: Waiter): () => void {
    this.waiters.add(onEvent);
    return () => this.waiters.delete(onEvent);
  }

  /** Starts a scripted call between two extensions; its events follow on timers. */
  scriptCall(options: ScriptedCallOptions): CallLegs {
    const outcome = options.outcome ?? 'answered';
    const ringMs = options.ringMs ?? 200;
    const call: ActiveCall = {
      from: options.from,
      to: options.to,
      caller: this.channelId(),
      callee: this.channelId(),
      state: 'ringing',
      startTime: pbxTime(new Date()),
      talkMs: options.talkMs ?? 500,
      callIds: { caller: this.nextCallId++, callee: this.nextCallId++ },
      timers: [],
    };
    this.calls.push(call);
    if (outcome === 'busy') {
      this.emit([this.leg(call, 'caller', 'Dialing Out')]);
      this.later(call, ringMs, () => {
        this.emit([this.leg(call, 'caller', 'Busy')]);
        this.later(call, 50, () => this.end(call));
      });
      return { caller: call.caller, callee: call.callee };
    }
    this.emit([this.leg(call, 'caller', 'Dialing Out'), this.leg(call, 'callee', 'Ringing')]);
    if (outcome === 'no-answer') {
      this.later(call, ringMs, () => {
        this.emit([this.leg(call, 'caller', 'No Answer'), this.leg(call, 'callee', 'No Answer')]);
        this.later(call, 50, () => this.end(call));
      });
    } else if (options.answerBy !== 'command') {
      this.later(call, ringMs, () => this.connect(call));
    }
    return { caller: call.caller, callee: call.callee };
  }

  /** The `answer` method: connects the ringing call whose callee leg is `uniqueId`. */
  answer(uniqueId: string): boolean {
    const call = this.calls.find((c) => c.state === 'ringing' && (c.callee === uniqueId || c.caller === uniqueId));
    if (!call) return false;
    this.connect(call);
    return true;
  }

  /** The `hangup` method: by uniqueCallId of either leg, or by extension (its most recent live call). */
  hangup(extenOrUniqueId: string): boolean {
    const ext = stripTech(extenOrUniqueId);
    const live = this.calls.filter((c) => c.state !== 'ended');
    const call =
      live.find((c) => c.caller === extenOrUniqueId || c.callee === extenOrUniqueId) ??
      [...live].reverse().find((c) => c.from === ext || c.to === ext);
    if (!call) return false;
    this.end(call);
    return true;
  }

  /** Live calls (for the state endpoint). */
  activeCalls(): Array<CallLegs & { from: string; to: string; state: string }> {
    return this.calls
      .filter((c) => c.state !== 'ended')
      .map(({ caller, callee, from, to, state }) => ({ caller, callee, from, to, state }));
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.calls) c.timers.forEach(clearTimeout);
    this.waiters.clear();
  }

  newChannelId(): string {
    return this.channelId();
  }

  private connect(call: ActiveCall): void {
    if (call.state !== 'ringing') return;
    call.state = 'connected';
    this.emit([this.leg(call, 'caller', 'Connected'), this.leg(call, 'callee', 'Connected')]);
    this.later(call, call.talkMs, () => this.end(call));
  }

  private end(call: ActiveCall): void {
    if (call.state === 'ended') return;
    const calleeInvolved = this.history.some((e) => e.entry.CallData.uniqueCallId === call.callee);
    call.state = 'ended';
    call.timers.forEach(clearTimeout);
    this.emit([this.leg(call, 'caller', 'Hungup'), ...(calleeInvolved ? [this.leg(call, 'callee', 'Hungup')] : [])]);
    this.calls = this.calls.filter((c) => c !== call);
  }

  private leg(call: ActiveCall, side: 'caller' | 'callee', status: string): EventInput {
    const caller = side === 'caller';
    return {
      exten: caller ? call.from : call.to,
      callId: call.callIds[side],
      callData: {
        canAnswer: !caller && status === 'Ringing',
        callerId: caller ? call.to : call.from,
        uniqueCallId: caller ? call.caller : call.callee,
        callStartTime: call.startTime,
        isQueueCall: false,
        isClickToDialCall: false,
        inbound: !caller,
        status,
      },
    };
  }

  private later(call: ActiveCall, ms: number, fn: () => void): void {
    if (this.stopped) return;
    call.timers.push(setTimeout(fn, ms));
  }

  /** Asterisk-style `<epoch seconds>.<counter>`. */
  private channelId(): string {
    return `${Math.floor(Date.now() / 1000)}.${this.channelCounter++}`;
  }
}

/** Fills the CallData fields Noojee always sends, in the seed's key order. */
function callData(partial: EventInput['callData']): SandboxCallData {
  return {
    canAnswer: partial.canAnswer ?? false,
    callerId: partial.callerId ?? '',
    uniqueCallId: partial.uniqueCallId ?? `${Math.floor(Date.now() / 1000)}.0`,
    callStartTime: partial.callStartTime ?? '',
    isQueueCall: partial.isQueueCall ?? false,
    isClickToDialCall: partial.isClickToDialCall ?? false,
    inbound: partial.inbound ?? false,
    ...partial,
  };
}

/** `SIP/100` → `100`. */
export function stripTech(exten: string): string {
  const slash = exten.lastIndexOf('/');
  return slash >= 0 ? exten.slice(slash + 1) : exten;
}

/** Noojee's `callStartTime` format: `2014/10/08 17:25:18` (server local time; UTC here). */
export function pbxTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/**
 * The seed's sample calls (seed 003). Call 1 is the documented response, byte for byte (410 first);
 * call 2 ("400 dials 410, 410 is busy") has no sample body in the seed: reconstructed as one `Busy`
 * event on 400's outbound leg.
 */
export const SEED_SAMPLE_CALLS: readonly (readonly EventInput[])[] = [
  [
    {
      exten: '410',
      callId: 2,
      callData: {
        canAnswer: false,
        callerId: '400',
        uniqueCallId: '1412749510.488',
        callStartTime: '2014/10/08 17:25:18',
        isQueueCall: false,
        isClickToDialCall: false,
        inbound: true,
        status: 'Hungup',
      },
    },
    {
      exten: '400',
      callId: 1,
      callData: {
        canAnswer: false,
        callerId: '410',
        uniqueCallId: '1412749517.489',
        callStartTime: '2014/10/08 17:25:18',
        isQueueCall: false,
        isClickToDialCall: false,
        inbound: false,
        status: 'Hungup',
      },
    },
  ],
  [
    {
      exten: '400',
      callId: 3,
      callData: {
        canAnswer: false,
        callerId: '410',
        uniqueCallId: '1412749525.490',
        callStartTime: '2014/10/08 17:25:25',
        isQueueCall: false,
        isClickToDialCall: false,
        inbound: false,
        status: 'Busy',
      },
    },
  ],
];
