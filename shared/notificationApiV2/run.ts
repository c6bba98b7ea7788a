/**
 * The timer function's body: with no NOTIFICATIONS_API_BASE_URL it logs one line and does nothing;
 * otherwise it drains (see drain.ts), logs the outcome and the backlog, and records the run in
 * `notifications/last-run.json` (CHECKPOINT_CONTAINER) for the status CLI. Upstream failures are
 * logged and recorded (the next run retries); configuration and storage failures fail the invocation.
 */
import type { InvocationContext } from '@azure/functions';
import { getConfig, secretRedactor, type Config } from '../config/settings';
import { ConfigError, StorageUnavailableError } from '../errors';
import { QueueWriter, writerOptions } from '../queue/writer';
import { JsonBlobStore } from '../state/jsonBlobStore';
import { getStorage } from '../storage';
import { NotificationApiClient } from './client';
import { LAST_RUN_BLOB } from './defaults';
import { describe, drainNotifications, type DrainResult } from './drain';
import { clientOptions, drainOptions, notificationApiConfigured } from './settings';
import { count } from '../telemetry';

export interface LastRun {
  startedAt: string;
  finishedAt: string;
  drained: number;
  backlog?: number;
  replayed?: number;
  subscriptionId?: string;
  error?: string;
  /** When this run could not learn the backlog: the last one known, and when it was measured. */
  lastKnownBacklog?: { value: number; at: string };
  warning?: string;
  deadLettered?: number;
  quarantined?: number;
  lost?: number;
}

/** One client per process and settings, so tokens stay cached between runs. */
let clientCache: { key: string; client: NotificationApiClient } | undefined;

function client(config: Config): NotificationApiClient {
  const options = clientOptions(config);
  const key = JSON.stringify(options);
  if (!clientCache || clientCache.key !== key) clientCache = { key, client: new NotificationApiClient(options) };
  return clientCache.client;
}

export async function runNotificationsDrain(context: Pick<InvocationContext, 'log' | 'warn' | 'error'>): Promise<DrainResult | undefined> {
  const config = getConfig();
  if (!notificationApiConfigured(config)) {
    context.log('notifications drain: off (NOTIFICATIONS_API_BASE_URL is not set)');
    return undefined;
  }
  const startedAt = new Date().toISOString();
  const api = client(config);
  const storage = await getStorage();
  const checkpoints = new JsonBlobStore(storage, config.CHECKPOINT_CONTAINER);
  const journal = new JsonBlobStore(storage, config.JOURNAL_CONTAINER);
  const writer = new QueueWriter(storage, writerOptions(config, config.NOTIFICATIONS_ENQUEUE_CONCURRENCY, 'notifications'));
  const redact = secretRedactor();
  const log = {
    info: (m: string) => context.log(redact.text(m)),
    warn: (m: string) => context.warn(redact.text(m)),
    error: (m: string) => context.error(redact.text(m)),
  };

  let result: DrainResult;
  try {
    result = await drainNotifications({ api, writer, journal, checkpoints, log }, drainOptions(config));
  } catch (err) {
    // Replaying the journal failed (storage): record if possible, fail the invocation.
    if (err instanceof StorageUnavailableError) count('storageUnavailable', 1, { function: 'notificationsDrain' });
    await recordRun(checkpoints, { startedAt, finishedAt: new Date().toISOString(), drained: 0, error: redact.text(describe(err)) }).catch(
      () => undefined,
    );
    throw err;
  }
  const finishedAt = new Date().toISOString();
  const lastRun: LastRun = {
    startedAt,
    finishedAt,
    drained: result.drained,
    ...(result.backlog !== undefined ? { backlog: result.backlog } : await lastKnownBacklog(checkpoints)),
    ...(result.warning ? { warning: redact.text(result.warning) } : {}),
    ...(result.deadLettered ? { deadLettered: result.deadLettered } : {}),
    ...(result.quarantined ? { quarantined: result.quarantined } : {}),
    ...(result.lost ? { lost: result.lost } : {}),
    ...(result.replayedMessages ? { replayed: result.replayedMessages } : {}),
    ...(result.subscriptionId ? { subscriptionId: result.subscriptionId } : {}),
    ...(result.error ? { error: redact.text(result.error) } : {}),
  };
  await recordRun(checkpoints, lastRun).catch((err: unknown) =>
    context.warn(`notifications drain: could not record the run (${describe(err)})`),
  );
  const summary = `notifications drain: ${result.drained} drained in ${result.pages} page(s)${result.replayedMessages ? `, ${result.replayedMessages} replayed from the journal` : ''}, backlog ${result.backlog ?? 'unknown'} (subscription ${result.subscriptionId ?? 'none'}, stopped: ${result.stoppedBy})`;
  if (result.error) {
    context.warn(redact.text(`${summary}: ${result.error}`));
    if (result.cause instanceof StorageUnavailableError) count('storageUnavailable', 1, { function: 'notificationsDrain' });
    // Not worth waiting for the next run silently: the invocation fails so monitoring sees it.
    if (result.cause instanceof ConfigError || result.cause instanceof StorageUnavailableError) throw result.cause;
  } else {
    context.log(summary);
  }
  return result;
}

/** The backlog an earlier run measured (carried forward while it cannot be measured). */
async function lastKnownBacklog(checkpoints: JsonBlobStore): Promise<Pick<LastRun, 'lastKnownBacklog'>> {
  const previous = (await checkpoints.read<LastRun>(LAST_RUN_BLOB).catch(() => undefined))?.value;
  if (previous?.backlog !== undefined) return { lastKnownBacklog: { value: previous.backlog, at: previous.finishedAt } };
  return previous?.lastKnownBacklog ? { lastKnownBacklog: previous.lastKnownBacklog } : {};
}

async function recordRun(checkpoints: JsonBlobStore, run: LastRun): Promise<void> {
  await checkpoints.write(LAST_RUN_BLOB, run);
}
