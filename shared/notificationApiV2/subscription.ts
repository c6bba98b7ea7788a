/**
 * Makes sure the drain has a subscription: its id is kept in a blob (`notifications/subscription.json`
 * in CHECKPOINT_CONTAINER, `{id, createdAt}`); when there is none, or upstream answers not-found for
 * the stored one (deleted, expired), a new subscription is created and the blob updated (ETag-guarded).
 * With NOTIFICATIONS_SUBSCRIPTION_ID the given subscription is used and never created.
 */
import { ConcurrencyError, ConfigError } from '../errors';
import type { JsonBlobStore } from '../state/jsonBlobStore';
import type { NotificationApiClient } from './client';
import { SUBSCRIPTION_BLOB } from './defaults';
import { isSubscriptionNotFound, NotificationApiError } from './errors';
import { randomBytes } from 'node:crypto';
import { withRetry, type RetryOptions } from './retry';
import type { Subscription } from './schemas';

export interface SubscriptionState {
  id: string;
  createdAt: string;
}

export interface SubscriptionSpec {
  /** Use this existing subscription; never create one. */
  fixedId?: string;
  /** What a created subscription listens to, and whose token may read it. */
  eventTypeIds?: string[];
  clientId?: string;
}

export interface EnsuredSubscription {
  id: string;
  subscription: Subscription;
  created: boolean;
  /** Set when a stored subscription was gone upstream and replaced. */
  replaced?: string;
  /** Created with no subscription recorded (a first run, or storage reset: an older one may hold unread notifications). */
  createdWithoutState?: boolean;
}

export type SubscriptionApi = Pick<NotificationApiClient, 'createSubscription' | 'getSubscription' | 'deleteSubscription'>;

export interface EnsureDeps {
  api: SubscriptionApi;
  checkpoints: JsonBlobStore;
  retry: RetryOptions;
  log?: (message: string) => void;
}

export async function ensureSubscription(deps: EnsureDeps, spec: SubscriptionSpec): Promise<EnsuredSubscription> {
  const { api, checkpoints, retry } = deps;
  if (spec.fixedId) {
    try {
      const subscription = await withRetry(() => api.getSubscription(spec.fixedId!), retry);
      return { id: spec.fixedId, subscription, created: false };
    } catch (err) {
      if (isSubscriptionNotFound(err)) {
        throw new ConfigError([
          `NOTIFICATIONS_SUBSCRIPTION_ID: subscription "${spec.fixedId}" does not exist upstream (or belongs to another client)`,
        ]);
      }
      throw err;
    }
  }
  const stored = await checkpoints.read<SubscriptionState>(SUBSCRIPTION_BLOB);
  if (stored) {
    try {
      const subscription = await withRetry(() => api.getSubscription(stored.value.id), retry);
      return { id: stored.value.id, subscription, created: false };
    } catch (err) {
      if (!isSubscriptionNotFound(err)) throw err;
      deps.log?.(`notifications: subscription ${stored.value.id} no longer exists upstream; creating a new one`);
    }
  }
  let withdrawn = false;
  const subscription = await createRecorded(deps, spec, async (created) => {
    const state: SubscriptionState = { id: created.id, createdAt: new Date().toISOString() };
    try {
      await checkpoints.write(SUBSCRIPTION_BLOB, state, stored ? { ifMatch: stored.etag } : { ifNotExists: true });
    } catch (err) {
      if (!(err instanceof ConcurrencyError)) throw err;
      // Another run stored a subscription meanwhile: keep theirs, withdraw ours.
      await api.deleteSubscription(created.id).catch(() => undefined);
      withdrawn = true;
    }
  });
  if (withdrawn) return ensureSubscription(deps, spec);
  return { id: subscription.id, subscription, created: true, ...(stored ? { replaced: stored.value.id } : { createdWithoutState: true }) };
}

/** Creates a subscription for the configured event types and client (administrator scope). */
export async function createSubscription(deps: Pick<EnsureDeps, 'api' | 'retry'>, spec: SubscriptionSpec): Promise<Subscription> {
  const problems: string[] = [];
  if (!spec.eventTypeIds?.length)
    problems.push('NOTIFICATIONS_EVENT_TYPE_IDS: required to create a subscription (comma-separated event type ids, e.g. 101,301)');
  if (!spec.clientId) problems.push('NOTIFICATIONS_SUBSCRIPTION_CLIENT_ID (or NOTIFICATIONS_CLIENT_ID): required to create a subscription');
  if (problems.length) throw new ConfigError(problems);
  // Not retried on timeouts: a lost answer may have created it; the next run then creates another
  // (the orphan expires upstream) rather than risking two here.
  const created = await withRetry(() => deps.api.createSubscription({ event_type_ids: spec.eventTypeIds!, client_id: spec.clientId! }), {
    ...deps.retry,
    attempts: 0,
  });
  if (!SUBSCRIPTION_ID.test(created.id)) {
    // Every later call would put it in a URL path and fail; withdraw it rather than orphan one per run.
    await deps.api.deleteSubscription(created.id).catch(() => undefined);
    throw new ConfigError([
      `the Notification API created a subscription whose id does not match ${SUBSCRIPTION_ID} (the documented pattern); it was deleted again. Check NOTIFICATIONS_API_BASE_URL and the API version.`,
    ]);
  }
  return created;
}

/** Blobs (CHECKPOINT_CONTAINER) of create requests sent whose answer was not (yet) recorded. */
export const CREATE_PENDING_PREFIX = 'notifications/create-pending/';

export interface PendingCreate {
  sentAt: string;
  eventTypeIds?: string[];
  clientId?: string;
  /** Why the answer is missing, when known (a timeout or network failure after the request was sent). */
  error?: string;
}

/**
 * Creates a subscription and records it with `record`, leaving a trace while the answer is not recorded:
 * a blob under CREATE_PENDING_PREFIX is written BEFORE the create is sent and deleted only once `record`
 * succeeded, or when upstream definitely refused (a 4xx). A lost answer (timeout, network, 5xx) or a crash
 * leaves it: a suspected orphan subscription, which `status` and `subscriptions status` report.
 */
export async function createRecorded(
  deps: Pick<EnsureDeps, 'api' | 'retry' | 'checkpoints' | 'log'>,
  spec: SubscriptionSpec,
  record: (created: Subscription) => Promise<void>,
): Promise<Subscription> {
  const marker = `${CREATE_PENDING_PREFIX}${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}.json`;
  const pending: PendingCreate = { sentAt: new Date().toISOString(), eventTypeIds: spec.eventTypeIds, clientId: spec.clientId };
  await deps.checkpoints.write(marker, pending);
  let created: Subscription;
  try {
    created = await createSubscription(deps, spec);
  } catch (err) {
    const answered = err instanceof ConfigError || (err instanceof NotificationApiError && err.status !== undefined && !err.retryable);
    if (answered) await deps.checkpoints.delete(marker).catch(() => undefined);
    else {
      const error = err instanceof Error ? err.message.slice(0, 300) : String(err).slice(0, 300);
      await deps.checkpoints.write(marker, { ...pending, error }).catch(() => undefined);
      deps.log?.(
        `notifications: the create request's answer was lost (${error}); a subscription may exist upstream unrecorded (suspected orphan, see \`status\`)`,
      );
    }
    throw err;
  }
  await record(created);
  await deps.checkpoints.delete(marker);
  return created;
}

/** Create requests sent with no answer recorded (oldest first): each may have left a subscription upstream. */
export async function suspectedOrphans(checkpoints: JsonBlobStore): Promise<(PendingCreate & { name: string })[]> {
  const names = (await checkpoints.list(CREATE_PENDING_PREFIX)).sort();
  const found = await Promise.all(names.map(async (name) => ({ name, value: (await checkpoints.read<PendingCreate>(name))?.value })));
  return found.filter((f) => f.value).map((f) => ({ name: f.name, ...f.value! }));
}

/** Forgets a suspected orphan (after checking upstream / deleting it). */
export async function forgetSuspectedOrphan(checkpoints: JsonBlobStore, name: string): Promise<void> {
  await checkpoints.delete(name);
}

/** Subscription ids as the Notification API documents them. */
export const SUBSCRIPTION_ID = /^[\p{L}0-9._-]+$/u;

/** The stored subscription id, if any. */
export async function storedSubscription(checkpoints: JsonBlobStore): Promise<SubscriptionState | undefined> {
  return (await checkpoints.read<SubscriptionState>(SUBSCRIPTION_BLOB))?.value;
}
