/**
 * The Notification API drain, usable without a host (timer function, CLI, benchmark):
 * 1. replay the journal entries a crashed run left (same envelope ids);
 * 2. make sure the subscription exists (recreate when upstream says not-found);
 * 3. read pages until one is empty or the time budget is spent: each page is journaled (one blob)
 *    BEFORE its messages are enqueued, then its journal entry is deleted. Reading the next page
 *    overlaps enqueuing the previous ones (at most `pagesInFlight` pages not yet enqueued);
 * 4. report the backlog (`number_of_remaining_notifications`).
 * Upstream 5xx/timeouts are retried with back-off, then the run stops; the next run continues.
 * A storage failure stops reading (nothing more is consumed upstream); what was journaled stays
 * for the next run. Each storage call has the storage deadline, so a hung storage ends the run too;
 * only a page already read and not yet journaled is retried, until the time budget ends.
 * Telemetry: each page is a trace of its own (a CONSUMER span from the read to the end of its
 * enqueue, linked to the run's invocation; its messages carry it); the journal replay runs in the
 * invocation's own trace.
 */
import type { MessageFormat } from '../envelope';
import type { QueueWriter } from '../queue/writer';
import type { JsonBlobStore } from '../state/jsonBlobStore';
import type { NotificationApiClient } from './client';
import { UnreadablePageError } from './client';
import { JOURNAL_PREFIX } from './defaults';
import { isSubscriptionNotFound } from './errors';
import { journalEntryName, messagesFor, newRunId, quarantineName, type JournalEntry } from './journal';
import { withRetry, type RetryOptions } from './retry';
import { shutdownSignal } from '../shutdown';
import { isStorageUnavailable } from '../errors';
import { ensureSubscription, type SubscriptionSpec } from './subscription';
import { activeContext, count, linkTo, openSpan, record, ROOT_CONTEXT, SpanKind, type OpenSpan } from '../telemetry';

export type DrainApi = Pick<NotificationApiClient, 'source' | 'readNotifications' | 'getSubscription' | 'createSubscription' | 'deleteSubscription'>;

export interface DrainDeps {
  api: DrainApi;
  writer: Pick<QueueWriter, 'sendAll'>;
  /** JOURNAL_CONTAINER store. */
  journal: JsonBlobStore;
  /** CHECKPOINT_CONTAINER store (subscription id). */
  checkpoints: JsonBlobStore;
  log?: { info(message: string): void; warn(message: string): void; error(message: string): void };
}

export interface DrainOptions {
  queue: string;
  format: MessageFormat;
  pageSize: number;
  /** Stop reading new pages after this long (pages already read are still enqueued). */
  timeBudgetMs: number;
  /** Pages read ahead of the enqueuing (≥ 1). */
  pagesInFlight: number;
  retry: RetryOptions;
  subscription: SubscriptionSpec;
  /** Test hook: pause after journaling each page, before enqueuing it. */
  pauseAfterJournalMs?: number;
}

export interface DrainResult {
  runId: string;
  subscriptionId?: string;
  subscriptionCreated: boolean;
  /** Journal entries of earlier runs replayed, and their messages. */
  replayedEntries: number;
  replayedMessages: number;
  pages: number;
  /** Notifications read and enqueued in this run (replays not included). */
  drained: number;
  /** number_of_remaining_notifications after the run, when known. */
  backlog?: number;
  stoppedBy: 'empty' | 'budget' | 'shutdown' | 'error';
  /** Short description of what stopped the run (no secrets). */
  error?: string;
  /** The error itself (not serialised). */
  cause?: unknown;
}

const noop = () => undefined;

export async function drainNotifications(deps: DrainDeps, options: DrainOptions): Promise<DrainResult> {
  const started = Date.now();
  const log = deps.log ?? { info: noop, warn: noop, error: noop };
  const runId = newRunId();
  const result: DrainResult = { runId, subscriptionCreated: false, replayedEntries: 0, replayedMessages: 0, pages: 0, drained: 0, stoppedBy: 'empty' };
  const retry: RetryOptions = {
    ...options.retry,
    // Retries (Retry-After included) end with the read budget.
    deadline: started + options.timeBudgetMs,
    onRetry: (err, attempt, delay) => log.warn(`notifications: ${describe(err)}; retry ${attempt}/${options.retry.attempts} in ${delay} ms`),
  };

  const links = linkTo(activeContext());
  // 1. Replay what a crashed run left. A storage failure here ends the run (thrown).
  const replay = await replayJournal(deps, options);
  count('journalReplays', replay.entries);
  result.replayedEntries = replay.entries;
  result.replayedMessages = replay.messages;
  if (replay.entries > 0) log.warn(`notifications: replayed ${replay.entries} journal entr${replay.entries === 1 ? 'y' : 'ies'} (${replay.messages} messages) left by an interrupted run`);

  // 2. The subscription.
  let subscriptionId: string;
  let backlogBefore: number | undefined;
  try {
    const ensured = await ensureSubscription({ api: deps.api, checkpoints: deps.checkpoints, retry, log: log.warn }, options.subscription);
    subscriptionId = ensured.id;
    result.subscriptionId = ensured.id;
    result.subscriptionCreated = ensured.created;
    backlogBefore = ensured.subscription.subscription_status?.number_of_remaining_notifications ?? undefined;
    if (ensured.created) log.info(`notifications: created subscription ${ensured.id}${ensured.replaced ? ` (replacing ${ensured.replaced})` : ''}`);
  } catch (err) {
    return fail(result, err);
  }

  // 3. Read, journal, enqueue.
  const inFlight = new Set<Promise<void>>();
  let enqueueFailure: unknown;
  const enqueue = (name: string, entry: JournalEntry, trace: OpenSpan) => {
    const task = trace.run(async () => {
      try {
        await deps.writer.sendAll(messagesFor(name, entry, options));
        result.drained += entry.results.length;
        count('drainPages');
        count('drainNotifications', entry.results.length);
        await deps.journal.delete(name);
        trace.end();
      } catch (err) {
        enqueueFailure ??= err;
        trace.end(err);
      }
    });
    const tracked = task.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  let pageNo = 0;
  let readFailure: unknown;
  for (;;) {
    if (enqueueFailure !== undefined) break;
    if (shutdownSignal().aborted) {
      // The host is stopping: read no more (what was read is still enqueued below).
      result.stoppedBy = 'shutdown';
      break;
    }
    if (Date.now() - started >= options.timeBudgetMs) {
      result.stoppedBy = 'budget';
      break;
    }
    while (inFlight.size >= options.pagesInFlight) await Promise.race(inFlight);
    if (enqueueFailure !== undefined) break;
    pageNo++;
    const trace = openSpan('drain page', { kind: SpanKind.CONSUMER, parent: ROOT_CONTEXT, links, attributes: { 'drain.page': pageNo } });
    let page;
    try {
      page = await trace.run(() => withRetry(() => deps.api.readNotifications(subscriptionId, options.pageSize), retry));
    } catch (err) {
      trace.end(err);
      if (err instanceof UnreadablePageError) await quarantine(deps, runId, pageNo, subscriptionId, err.text, log);
      if (isSubscriptionNotFound(err)) {
        // Deleted while we were reading: the next run creates a new one (ensureSubscription).
        log.warn(`notifications: subscription ${subscriptionId} disappeared during the run; it is recreated next run`);
      }
      readFailure = err;
      break;
    }
    trace.span.setAttribute('messaging.batch.message_count', page.results.length);
    if (page.results.length === 0) {
      trace.end();
      break;
    }
    result.pages++;
    const name = journalEntryName(runId, pageNo);
    const entry: JournalEntry = { version: 1, subscriptionId, source: deps.api.source, readAt: new Date().toISOString(), page: page.page ?? null, results: page.results };
    const journalFailure = await trace.run(() => journalPage(deps, name, entry, started + options.timeBudgetMs, retry, log));
    if (journalFailure !== undefined) {
      // The page is consumed upstream and exists only in memory: enqueue it directly rather than drop it.
      log.error(`notifications: could not journal page ${pageNo} (${describe(journalFailure)}); enqueuing it without a journal entry`);
      try {
        await trace.run(() => deps.writer.sendAll(messagesFor(name, entry, options)));
        result.drained += entry.results.length;
        count('drainNotifications', entry.results.length);
      } catch (sendErr) {
        log.error(`notifications: LOST ${entry.results.length} notifications of page ${pageNo}: storage failed for both journal and queue (${describe(sendErr)})`);
      }
      trace.end(journalFailure);
      enqueueFailure = journalFailure;
      break;
    }
    if (options.pauseAfterJournalMs) {
      log.warn(`notifications: test pause of ${options.pauseAfterJournalMs} ms after journaling ${name}`);
      await new Promise((r) => setTimeout(r, options.pauseAfterJournalMs));
    }
    enqueue(name, entry, trace);
  }
  await Promise.all(inFlight);

  const failure = enqueueFailure ?? readFailure;
  if (failure !== undefined) fail(result, failure);

  // 4. Backlog after the run.
  try {
    const status = await deps.api.getSubscription(subscriptionId);
    result.backlog = status.subscription_status?.number_of_remaining_notifications ?? undefined;
  } catch {
    if (backlogBefore !== undefined) result.backlog = Math.max(0, backlogBefore - result.drained);
  }
  if (result.backlog !== undefined) record('drainBacklog', result.backlog);
  return result;
}

/**
 * Journals a page that was just read (and so is gone upstream). Storage that hangs or fails is tried
 * again with back-off until the run's time budget ends (at least `retry.attempts` times), since this
 * page has no other copy. Returns the last error when it could not be journaled.
 */
async function journalPage(
  deps: DrainDeps,
  name: string,
  entry: JournalEntry,
  budgetEnd: number,
  retry: RetryOptions,
  log: NonNullable<DrainDeps['log']>,
): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.journal.write(name, entry);
      return undefined;
    } catch (err) {
      if (!isStorageUnavailable(err) || (attempt > retry.attempts && Date.now() >= budgetEnd)) return err;
      const delay = Math.min(Math.max(100, retry.baseDelayMs) * 2 ** (attempt - 1), 10_000);
      log.warn(`notifications: journaling ${name} failed (${describe(err)}); the page exists only in memory, trying again in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** Enqueues and removes every journal entry left by earlier runs (oldest first). */
export async function replayJournal(
  deps: Pick<DrainDeps, 'writer' | 'journal'>,
  options: Pick<DrainOptions, 'queue' | 'format'>,
): Promise<{ entries: number; messages: number }> {
  let entries = 0;
  let messages = 0;
  for (const name of await deps.journal.list(JOURNAL_PREFIX)) {
    const doc = await deps.journal.read<JournalEntry>(name);
    if (!doc) continue;
    await deps.writer.sendAll(messagesFor(name, doc.value, options));
    await deps.journal.delete(name, { ifMatch: doc.etag });
    entries++;
    messages += doc.value.results.length;
  }
  return { entries, messages };
}

async function quarantine(deps: DrainDeps, runId: string, pageNo: number, subscriptionId: string, text: string, log: NonNullable<DrainDeps['log']>) {
  const name = quarantineName(runId, pageNo);
  try {
    await deps.journal.write(name, { subscriptionId, receivedAt: new Date().toISOString(), text });
    log.error(`notifications: a response could not be understood; kept as blob "${name}" in the journal container for inspection`);
  } catch (err) {
    log.error(`notifications: a response could not be understood and could not be kept (${describe(err)})`);
  }
}

function fail(result: DrainResult, err: unknown): DrainResult {
  result.stoppedBy = 'error';
  result.error = describe(err);
  result.cause = err;
  return result;
}

export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
