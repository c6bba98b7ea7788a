/**
 * The callEvents timer's work: one long-poll run (see poller.ts) with the app's settings, storage
 * and queue writer, and a last-run record in `<CHECKPOINT_CONTAINER>/noojee/last-run.json`.
 * Without Noojee settings it logs one line and does nothing, so the app runs without Noojee.
 */
import type { InvocationContext } from '@azure/functions';
import { getConfig, secretRedactor, type Config } from '../config/settings';
import { QueueWriter, writerOptions } from '../queue/writer';
import { JsonBlobStore } from '../state/jsonBlobStore';
import { getStorage } from '../storage';
import { CursorStore } from './cursor';
import { pollCallEvents, type PollLog, type PollResult } from './poller';
import { beginCallEventRun } from './runControl';
import { createNoojeeClient, isNoojeeConfigured, monitoredExtensions, notConfiguredReason } from './setup';

export async function runCallEvents(context: InvocationContext, config: Config = getConfig()): Promise<PollResult | undefined> {
  if (!isNoojeeConfigured(config)) {
    context.log(`callEvents: ${notConfiguredReason(config)}; nothing to do`);
    return undefined;
  }
  const extensions = monitoredExtensions(config);
  const redact = secretRedactor();
  const log: PollLog = { info: (m) => context.log(redact.text(m)), warn: (m) => context.warn(redact.text(m)) };
  const client = createNoojeeClient(config, (method, code, message) =>
    context.warn(`noojee: ${method} answered warning Code ${code}: ${message ?? ''}`),
  );
  const storage = await getStorage();
  const cursor = new CursorStore(new JsonBlobStore(storage, config.CHECKPOINT_CONTAINER));
  const writer = new QueueWriter(storage, writerOptions(config, undefined, 'noojee'));

  const startedAt = new Date().toISOString();
  const run = beginCallEventRun();
  let result: PollResult;
  try {
    result = await pollCallEvents(
      { client, writer, cursor, log },
      {
        extensions,
        queue: config.NOOJEE_EVENTS_QUEUE,
        deadLetterQueue: config.DEADLETTER_QUEUE,
        source: config.NOOJEE_EVENT_SOURCE,
        eventIds: config.NOOJEE_EVENT_ID,
        budgetMs: config.NOOJEE_RUN_SECONDS * 1000,
        pollTimeoutSeconds: config.NOOJEE_POLL_TIMEOUT_SECONDS,
        retryDelayMs: config.NOOJEE_RETRY_DELAY_MS,
        signal: run.signal,
      },
    );
  } catch (err) {
    // Reading the cursor failed (storage down): record it if we can, and fail the invocation.
    await saveLastRun(
      cursor,
      { startedAt, finishedAt: new Date().toISOString(), events: 0, error: redact.text((err as Error).message) },
      log,
    );
    throw err;
  } finally {
    run.end();
  }
  const error = result.error ? redact.text(result.error.message) : undefined;
  await saveLastRun(cursor, { startedAt, finishedAt: new Date().toISOString(), events: result.events, ...(error ? { error } : {}) }, log);
  context.log(
    `callEvents: ${result.events} event(s)${result.deadLettered ? ` and ${result.deadLettered} unreadable entr${result.deadLettered === 1 ? 'y' : 'ies'} (dead-lettered)` : ''} in ${result.polls} poll(s), ${result.failures} failed poll(s)${result.unreadableAnswers ? ` (${result.unreadableAnswers} unreadable 200 answer(s), retried)` : ''}, seq ${result.seq}, stopped by ${result.stoppedBy}`,
  );
  if (result.stoppedBy === 'error') throw new Error(`callEvents: run ended on an error: ${error ?? 'unknown'}`, { cause: result.error });
  return result;
}

async function saveLastRun(cursor: CursorStore, run: Parameters<CursorStore['saveLastRun']>[0], log: PollLog): Promise<void> {
  try {
    await cursor.saveLastRun(run);
  } catch (err) {
    log.warn(`noojee: could not record the last run: ${(err as Error).message}`);
  }
}
