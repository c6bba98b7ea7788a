/**
 * Constants of the Notification API drain, free of imports so that the thin function file can use
 * them without loading zod (cold start); `shared/config/notifications.ts` uses the same constants.
 */

/** Timer schedule of the drain (NCRONTAB, six fields): every minute. */
export const DEFAULT_DRAIN_SCHEDULE = '0 */1 * * * *';

/** `NOTIFICATIONS_RUN_ON_STARTUP` (true/1), default false. */
export function drainRunsOnStartup(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.NOTIFICATIONS_RUN_ON_STARTUP?.trim().toLowerCase();
  return v === 'true' || v === '1';
}

export const CONSUMER_SCOPE = 'notification:consent:consumer';
export const ADMINISTRATOR_SCOPE = 'notification:consent:administrator';

/** Path templates (relative to the API base URL). The real paths are not public: see README. */
export const DEFAULT_PATHS = {
  token: '/auth/oauth2.0/v1/token',
  subscriptions: '/notification/v1/subscriptions',
  subscription: '/notification/v1/subscriptions/{id}',
  notifications: '/notification/v1/subscriptions/{id}/notifications',
} as const;

/** Blob names (in CHECKPOINT_CONTAINER) of the drain's state; the status CLI reads them. */
export const SUBSCRIPTION_BLOB = 'notifications/subscription.json';
export const LAST_RUN_BLOB = 'notifications/last-run.json';
/** Prefix of the drain's journal entries in JOURNAL_CONTAINER. */
export const JOURNAL_PREFIX = 'notifications/';

/**
 * Bounds on a whole notifications page (NOTIFICATIONS_PAGE_MAX_DEPTH / NOTIFICATIONS_PAGE_MAX_ELEMENTS),
 * scanned on the response text before it is parsed: the page object and its `results` array add two
 * levels to a notification's own 64, and a page of 1,000,000 values leaves room for large pages while
 * keeping memory and time bounded. A page over them is quarantined whole (nothing of it is enqueued).
 */
export const DEFAULT_PAGE_LIMITS = { maxDepth: 66, maxElements: 1_000_000 } as const;
