/**
 * The Notification API v2 drain (timer function, CLI, bench). Reads are destructive, so a page is
 * journaled (one blob) BEFORE its messages are enqueued, and a crashed run's journal is replayed
 * first with the same envelope ids. A page read but not yet journaled is retried until shortly
 * before host.json's functionTimeout, not just the read budget. A journal entry that fails to replay
 * for a non-storage reason is quarantined after NOTIFICATIONS_REPLAY_ATTEMPTS, so it never wedges
 * the drain. Each page is a trace of its own, linked to the run's invocation.
 */
import type { MessageFormat } from '../envelope';
import type { QueueWriter } from '../queue/writer';
import type { JsonBlobStore } from '../state/jsonBlobStore';
import type { NotificationApiClient } from './client';
import { UnreadablePageError } from './client';
import { JOURNAL_PREFIX } from './defaults';
import { isSubscriptionNotFound } from './errors';
import { journalEntryName, messagesFor, newRunId, quarantineName, type JournalEntry } from './journal';
import { boundPage } from './pageLimits';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from '../engage/jsonLimits';
import { DEFAULT_DEADLETTER_QUEUE } from '../deadletter';
import { withRetry, type RetryOptions } from './retry';
import { shutdownSignal } from '../shutdown';
import { isStorageUnavailable } from '../errors';
import { ensureSubscription, type SubscriptionSpec } from './subscription';
import { activeContext, count, linkTo, openSpan, record, ROOT_CONTEXT, SpanKind, type OpenSpan } from '../telemetry';

export type DrainApi = Pick<
  NotificationApiClient,
  'source' | 'readNotifications' | 'getSubscription' | 'createSubscription' | 'deleteSubscription'
>;

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
  /** DEADLETTER_QUEUE: notifications over `limits` (default engage-deadletter). */
  deadLetterQueue?: string;
  /** Bounds on each notification (NOTIFICATIONS_MAX_DEPTH / NOTIFICATIONS_MAX_ELEMENTS; default the webhook's defaults). */
  limits?: JsonLimits;
  /** Tries of a journal entry whose replay fails for a non-storage reason before it is quarantined (default 3). */
  replayAttempts?: number;
  /** How long after the run's start a page already read is still retried (the invocation's time left; default the read budget). */
  heldPageDeadlineMs?: number;
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
  /** Something an operator should know although the run went on (e.g. a subscription created with no state). */
  warning?: string;
  /** Notifications dead-lettered for being over the limits, and journal entries quarantined. */
  deadLettered: number;
  quarantined: number;
  /** Notifications read upstream and neither journaled nor enqueued (their ids are logged). */
  lost: number;
  /** The error itself (not serialised). */
  cause?: unknown;
}

const noop = () => undefined;

export async function drainNotifications(deps: DrainDeps, options: DrainOptions): Promise<DrainResult> {
  const started = Date.now();
  const log = deps.log ?? { info: noop, warn: noop, error: noop };
  const runId = newRunId();
  const result: DrainResult = {
    runId,
    subscriptionCreated: false,
    replayedEntries: 0,
    replayedMessages: 0,
    pages: 0,
    drained: 0,
    stoppedBy: 'empty',
    deadLettered: 0,
    quarantined: 0,
    lost: 0,
  };
  const heldUntil = started + Math.max(options.heldPageDeadlineMs ?? 0, options.timeBudgetMs);
  const limits = options.limits ?? DEFAULT_JSON_LIMITS;
  const deadLetterQueue = options.deadLetterQueue ?? DEFAULT_DEADLETTER_QUEUE;
  const retry: RetryOptions = {
    ...options.retry,
    // Retries (Retry-After included) end with the read budget.
    deadline: started + options.timeBudgetMs,
    onRetry: (err, attempt, delay) =>
      log.warn(`notifications: ${describe(err)}; retry ${attempt}/${options.retry.attempts} in ${delay} ms`),
  };

  const links = linkTo(activeContext());
  // 1. Replay what a crashed run left. A storage failure here ends the run (thrown).
  const replay = await replayJournal(deps, options);
  count('journalReplays', replay.entries);
  result.quarantined += replay.quarantined;
  result.replayedEntries = replay.entries;
  result.replayedMessages = replay.messages;
  if (replay.entries > 0)
    log.warn(
      `notifications: replayed ${replay.entries} journal entr${replay.entries === 1 ? 'y' : 'ies'} (${replay.messages} messages) left by an interrupted run`,
    );

  // 2. The subscription.
  let subscriptionId: string;
  let backlogBefore: number | undefined;
  try {
    const ensured = await ensureSubscription(
      { api: deps.api, checkpoints: deps.checkpoints, retry, log: (message) => log.warn(message) },
      options.subscription,
    );
    subscriptionId = ensured.id;
    result.subscriptionId = ensured.id;
    result.subscriptionCreated = ensured.created;
    backlogBefore = ensured.subscription.subscription_status?.number_of_remaining_notifications ?? undefined;
    if (ensured.created)
      log.info(`notifications: created subscription ${ensured.id}${ensured.replaced ? ` (replacing ${ensured.replaced})` : ''}`);
    if (ensured.createdWithoutState) {
      result.warning = `created subscription ${ensured.id} because none was recorded: if storage was reset, a previous subscription may still hold unread notifications (pin one with NOTIFICATIONS_SUBSCRIPTION_ID)`;
      // Info, not a warning: a first run looks the same (a clean first start stays warning-free); `status` shows it.
      log.info(`notifications: ${result.warning}`);
    }
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
        const valid = entry.results.length - (entry.rejected?.length ?? 0);
        result.drained += valid;
        count('drainPages');
        count('drainNotifications', valid);
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
      if (err instanceof UnreadablePageError) await quarantine(deps, runId, pageNo, subscriptionId, err.text, err.reason, log);
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
    const bounded = boundPage(page.results, limits);
    const entry: JournalEntry = {
      version: 1,
      subscriptionId,
      source: deps.api.source,
      readAt: new Date().toISOString(),
      page: page.page ?? null,
      ...withRejected(bounded),
    };
    if (bounded.rejected.length) {
      result.deadLettered += bounded.rejected.length;
      log.warn(
        `notifications: page ${pageNo}: ${bounded.rejected.map((r) => r.reason).join('; ')}; dead-lettered to ${deadLetterQueue}, the rest of the page goes on`,
      );
    }
    const journalFailure = await trace.run(() => journalPage(deps, name, entry, heldUntil, retry, log));
    if (journalFailure !== undefined) {
      // The page is consumed upstream and exists only in memory: enqueue it directly rather than drop it.
      log.error(`notifications: could not journal page ${pageNo} (${describe(journalFailure)}); enqueuing it without a journal entry`);
      const sendFailure = await trace.run(() =>
        untilDeadline(() => deps.writer.sendAll(messagesFor(name, entry, options)), heldUntil, retry, log, `enqueuing page ${pageNo}`),
      );
      if (sendFailure === undefined) {
        const valid = entry.results.length - (entry.rejected?.length ?? 0);
        result.drained += valid;
        count('drainNotifications', valid);
      } else {
        const ids = page.results.map((n, i) => notificationId(n) ?? `#${i}`);
        result.lost += ids.length;
        const reason = isStorageUnavailable(sendFailure) && isStorageUnavailable(journalFailure) ? 'storage' : 'error';
        count('drainLost', ids.length, { reason });
        log.error(
          `notifications: LOST ${ids.length} notifications of page ${pageNo} (subscription ${subscriptionId}; ids ${ids.join(', ')}): ` +
            `journal write failed (${describe(journalFailure)}), then the enqueue failed (${describe(sendFailure)})`,
        );
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
  // Only a status call that succeeded now says how many are left; otherwise the backlog is unknown
  // (an estimate from the count before the run would be wrong as soon as new notifications arrive).
  try {
    const status = await deps.api.getSubscription(subscriptionId);
    result.backlog = status.subscription_status?.number_of_remaining_notifications ?? undefined;
  } catch {
    void backlogBefore;
  }
  if (result.backlog !== undefined) record('drainBacklog', result.backlog);
  return result;
}

/**
 * Journals a page that was just read (and so is gone upstream). Storage that hangs or fails is tried
 * again with back-off until the run's time budget ends (at least `retry.attempts` times), since this
 * page has no other copy. Returns the last error when it could not be journaled.
 */
function journalPage(
  deps: DrainDeps,
  name: string,
  entry: JournalEntry,
  until: number,
  retry: RetryOptions,
  log: NonNullable<DrainDeps['log']>,
): Promise<unknown> {
  return untilDeadline(() => deps.journal.write(name, entry), until, retry, log, `journaling ${name}`);
}

/**
 * Runs `fn` for a page that exists only in memory: a storage failure is tried again with back-off
 * until `until` (at least `retry.attempts` times); any other error is returned at once (trying it
 * again would fail the same way). Returns the last error, or undefined on success.
 */
async function untilDeadline(
  fn: () => Promise<unknown>,
  until: number,
  retry: RetryOptions,
  log: NonNullable<DrainDeps['log']>,
  what: string,
): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      await fn();
      return undefined;
    } catch (err) {
      if (!isStorageUnavailable(err)) return err;
      const delay = Math.min(Math.max(100, retry.baseDelayMs) * 2 ** (attempt - 1), 10_000);
      if (attempt > retry.attempts && Date.now() + delay >= until) return err;
      log.warn(`notifications: ${what} failed (${describe(err)}); the page exists only in memory, trying again in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

function withRejected(b: ReturnType<typeof boundPage>): Pick<JournalEntry, 'results' | 'rejected'> {
  return b.rejected.length ? { results: b.results, rejected: b.rejected } : { results: b.results };
}

/** The upstream id of a notification, when it has a scalar one (for the log of what was lost). */
function notificationId(n: unknown): string | undefined {
  if (n === null || typeof n !== 'object') return undefined;
  const o = n as Record<string, unknown>;
  const id = o.notification_id ?? o.id ?? o.event_id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/**
 * Enqueues and removes every journal entry left by earlier runs (oldest first). A storage failure is
 * thrown (the entry stays for the next run); any other failure (an entry that cannot be parsed or
 * enqueued) is tried `replayAttempts` times, then the entry's text moves to quarantine with the reason
 * and the replay goes on: one bad entry never blocks the drain.
 */
export async function replayJournal(
  deps: Pick<DrainDeps, 'writer' | 'journal' | 'log'>,
  options: Pick<DrainOptions, 'queue' | 'format' | 'deadLetterQueue' | 'replayAttempts' | 'limits'>,
): Promise<{ entries: number; messages: number; quarantined: number }> {
  let entries = 0;
  let messages = 0;
  let quarantined = 0;
  for (const name of await deps.journal.list(JOURNAL_PREFIX)) {
    let lastError: unknown;
    const attempts = Math.max(1, options.replayAttempts ?? 3);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const raw = await deps.journal.readText(name);
      if (!raw) {
        lastError = undefined;
        break;
      }
      try {
        const parsed = JSON.parse(raw.value) as JournalEntry;
        if (!parsed || !Array.isArray(parsed.results)) throw new TypeError('journal entry has no results array');
        // An entry written before the limits existed: bound it now (its over-limit notifications are dead-lettered).
        const entry = parsed.rejected
          ? parsed
          : { ...parsed, ...withRejected(boundPage(parsed.results, options.limits ?? DEFAULT_JSON_LIMITS)) };
        await deps.writer.sendAll(messagesFor(name, entry, options));
        await deps.journal.delete(name, { ifMatch: raw.etag });
        entries++;
        messages += entry.results.length - (entry.rejected?.length ?? 0);
        lastError = undefined;
        break;
      } catch (err) {
        if (isStorageUnavailable(err)) throw err;
        lastError = err;
      }
    }
    if (lastError !== undefined) {
      const raw = await deps.journal.readText(name);
      if (!raw) continue;
      const reason = `replay failed ${attempts} time(s): ${describe(lastError)}`;
      await deps.journal.writeText(
        `quarantine/${name}`,
        JSON.stringify({ reason, from: name, quarantinedAt: new Date().toISOString(), text: raw.value }),
      );
      await deps.journal.delete(name, { ifMatch: raw.etag });
      quarantined++;
      count('drainQuarantined', 1, { reason: 'replay' });
      deps.log?.error(
        `notifications: journal entry ${name} could not be replayed (${reason}); moved to quarantine/${name} so the drain goes on`,
      );
    }
  }
  return { entries, messages, quarantined };
}

async function quarantine(
  deps: DrainDeps,
  runId: string,
  pageNo: number,
  subscriptionId: string,
  text: string,
  reason: string,
  log: NonNullable<DrainDeps['log']>,
) {
  const name = quarantineName(runId, pageNo);
  try {
    // The raw text as a string: nothing of the page is parsed or recursed on here.
    await deps.journal.writeText(
      name,
      JSON.stringify({ reason, from: 'page', subscriptionId, source: deps.api.source, receivedAt: new Date().toISOString(), text }),
    );
    count('drainQuarantined', 1, { reason: 'page' });
    log.error(
      `notifications: page ${pageNo} could not be taken (${reason}); its text is kept whole as blob "${name}" in the journal container (engage-bridge notifications quarantine show)`,
    );
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
