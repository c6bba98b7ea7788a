/**
 * One run of the Noojee call-event long-poll, usable without a host: subscribe with the stored
 * cursor, enqueue one message per CallData, then (and only then) advance the cursor to the
 * response's `seq`; repeat until the time budget is spent. At-least-once: a crash between the enqueue
 * and the cursor write re-reads the same events, which carry the same envelope ids.
 *
 * - Transient Noojee failures (dropped connection, timeout, 5xx, a 200 whose body is not a subscribe
 *   answer) wait (back-off from `retryDelayMs`, at most 4×, or the answer's `Retry-After`) and poll
 *   again within the budget; a refusal (negative Code, HTTP 4xx) ends the run with that error.
 * - A storage failure ends the run before the cursor moves (the next run reads the events again).
 * - Losing the cursor's ETag race means another instance owns the cursor: the run stops cleanly.
 * Telemetry: each poll is a trace of its own (a CONSUMER span from the subscribe to the cursor
 * write, linked to the run's invocation; the messages carry it).
 */
import { ConcurrencyError, isStorageUnavailable } from '../errors';
import { formatBody, type MessageFormat } from '../envelope';
import type { OutgoingMessage, QueueWriter } from '../queue/writer';
import type { NoojeeClient } from './client';
import { INVALID_RESPONSE, UpstreamError } from '../http/error';
import { decideRetry, sleep } from '../http/retryPolicy';
import type { CursorStore, HeldCursor } from './cursor';
import { callEventEnvelopes, unreadableEnvelopes, type CallEventIdMode } from './subscribe';
import { DEFAULT_DEADLETTER_QUEUE } from '../deadletter';
import { activeContext, count, linkTo, openSpan, record, ROOT_CONTEXT, SpanKind, type OpenSpan } from '../telemetry';

export interface PollLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface PollOptions {
  extensions: readonly string[];
  queue: string;
  /** Where entries that are not call events are kept (DEADLETTER_QUEUE). */
  deadLetterQueue?: string;
  source: string;
  /** How call-event ids are made (NOOJEE_EVENT_ID; default `content`). */
  eventIds?: CallEventIdMode;
  /** How long the run keeps polling, in ms. */
  budgetMs: number;
  /** `timeOut` of each subscribe, in seconds (capped by what is left of the budget). */
  pollTimeoutSeconds: number;
  retryDelayMs: number;
  format?: MessageFormat;
  /** Least time between two subscribes (Noojee documents a minimum poll period of about 100 ms). */
  minPollIntervalMs?: number;
  /** Ends the run early (host shutdown). */
  signal?: AbortSignal;
}

export interface PollDeps {
  client: Pick<NoojeeClient, 'subscribe'>;
  writer: Pick<QueueWriter, 'sendAll'>;
  cursor: Pick<CursorStore, 'load' | 'save'>;
  log: PollLog;
}

export type StopReason = 'budget' | 'lost-cursor' | 'error' | 'aborted';

export interface PollResult {
  /** Messages enqueued. */
  events: number;
  /** Entries without CallData kept in the dead-letter queue. */
  deadLettered: number;
  /** Subscribe calls answered. */
  polls: number;
  /** Failed subscribe attempts (retried or final). */
  failures: number;
  /** Of those, 200 answers whose body was not a subscribe answer (retried like a 5xx). */
  unreadableAnswers: number;
  /** Cursor at the end of the run. */
  seq: number;
  stoppedBy: StopReason;
  /** Last failure of the run, when the last attempt failed or the run stopped on an error. */
  error?: Error;
}

export async function pollCallEvents(deps: PollDeps, options: PollOptions): Promise<PollResult> {
  const { client, writer, cursor, log } = deps;
  const deadline = Date.now() + options.budgetMs;
  const minInterval = options.minPollIntervalMs ?? 100;
  let held: HeldCursor = await cursor.load();
  const result: PollResult = {
    events: 0,
    deadLettered: 0,
    polls: 0,
    failures: 0,
    unreadableAnswers: 0,
    seq: held.seq,
    stoppedBy: 'budget',
  };
  log.info(`noojee: polling extensions ${options.extensions.join(',')} from seq ${held.seq} for ${Math.round(options.budgetMs / 1000)} s`);

  let lastPollStart = 0;
  let consecutiveFailures = 0;
  const links = linkTo(activeContext());
  let poll: OpenSpan | undefined;
  for (;;) {
    poll?.end(result.stoppedBy === 'error' ? result.error : undefined);
    poll = undefined;
    if (options.signal?.aborted) {
      result.stoppedBy = 'aborted';
      break;
    }
    const wait = Math.max(0, lastPollStart + minInterval - Date.now());
    if (wait > 0) await sleep(wait, options.signal);
    const timeOut = Math.min(options.pollTimeoutSeconds, Math.floor((deadline - Date.now()) / 1000));
    if (timeOut < 1) break;
    lastPollStart = Date.now();
    const trace = openSpan('noojee poll', { kind: SpanKind.CONSUMER, parent: ROOT_CONTEXT, links, attributes: { 'noojee.seq': held.seq } });
    poll = trace;

    let response;
    try {
      response = await trace.run(() =>
        client.subscribe({ exten: options.extensions, lastSequenceNumber: held.seq, timeOut }, options.signal),
      );
    } catch (err) {
      trace.end(options.signal?.aborted ? undefined : err);
      if (options.signal?.aborted) {
        result.stoppedBy = 'aborted';
        break;
      }
      result.failures++;
      result.error = err as Error;
      if (err instanceof UpstreamError && err.code === INVALID_RESPONSE) result.unreadableAnswers++;
      // The upstream retry policy (shared/http): back-off from retryDelayMs, or the answer's Retry-After, within the budget.
      const retry = decideRetry(
        err,
        consecutiveFailures++,
        { maxRetries: Infinity, baseDelayMs: options.retryDelayMs, maxDelayMs: options.retryDelayMs * 4 },
        { deadline },
      );
      if (retry.retry) {
        log.warn(`noojee: subscribe failed, polling again in ${retry.delayMs} ms: ${(err as Error).message}`);
        await sleep(retry.delayMs, options.signal);
        continue;
      }
      if (retry.reason === 'deadline' || retry.reason === 'retry-after-too-long') {
        log.warn(`noojee: subscribe failed and the run's budget ends before the next attempt: ${(err as Error).message}`);
        break;
      }
      log.warn(`noojee: subscribe refused, ending this run: ${(err as Error).message}`);
      result.stoppedBy = 'error';
      break;
    }
    result.polls++;
    result.error = undefined;
    consecutiveFailures = 0;
    const receivedAt = Date.now();

    const nextSeq = response.seq ?? held.seq;
    if (response.seq === undefined && response.events.length > 0)
      log.warn('noojee: subscribe answered events without a seq; keeping the cursor');
    const envelopes = callEventEnvelopes(response, nextSeq, options.source, undefined, options.eventIds);
    const messages: OutgoingMessage[] = envelopes.map((e) => ({
      queue: options.queue,
      body: formatBody(e, options.format ?? 'cloudevents'),
      key: e.id,
      about: e,
    }));
    // Entries without CallData are kept (dead-letter queue), written with the events, before the cursor moves.
    const deadLetterQueue = options.deadLetterQueue ?? DEFAULT_DEADLETTER_QUEUE;
    const unreadable = unreadableEnvelopes(response, nextSeq, options.source).map((e): OutgoingMessage => ({
      queue: deadLetterQueue,
      body: e,
      key: e.id,
    }));
    messages.push(...unreadable);
    if (messages.length > 0) {
      try {
        await trace.run(() => writer.sendAll(messages));
      } catch (err) {
        // Nothing acknowledged: the cursor stays, the next run reads these events again.
        if (isStorageUnavailable(err)) count('storageUnavailable', 1, { function: 'callEvents' });
        result.error = err as Error;
        result.stoppedBy = 'error';
        log.warn(`noojee: could not enqueue ${messages.length} call events, cursor stays at ${held.seq}: ${(err as Error).message}`);
        break;
      }
      result.events += messages.length - unreadable.length;
      result.deadLettered += unreadable.length;
      if (unreadable.length > 0)
        log.warn(
          `noojee: ${unreadable.length} Data entr${unreadable.length === 1 ? 'y' : 'ies'} without a CallData object kept in ${deadLetterQueue} (total this run ${result.deadLettered})`,
        );
      count('noojeeEvents', messages.length - unreadable.length);
    }
    if (nextSeq !== held.seq || held.etag === undefined) {
      try {
        const from = held;
        held = await trace.run(() => cursor.save(from, nextSeq));
        if (messages.length > 0) record('noojeeCursorLag', (Date.now() - receivedAt) / 1000);
      } catch (err) {
        if (err instanceof ConcurrencyError) {
          log.info(`noojee: the cursor was advanced by another instance; stopping this run (events up to seq ${nextSeq} are enqueued)`);
          result.stoppedBy = 'lost-cursor';
          break;
        }
        result.error = err as Error;
        result.stoppedBy = 'error';
        log.warn(`noojee: could not store cursor seq ${nextSeq} (events are enqueued; they will be read again): ${(err as Error).message}`);
        break;
      }
      result.seq = held.seq;
    }
    if (envelopes.length > 0) log.info(`noojee: enqueued ${envelopes.length} call event(s) to ${options.queue}, seq ${held.seq}`);
  }
  poll?.end(result.stoppedBy === 'error' ? result.error : undefined);
  return result;
}
