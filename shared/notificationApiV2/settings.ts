/** Turns the NOTIFICATIONS_* settings into client and drain options (ConfigError naming what is missing). */
import { pauseAfterJournalMs } from '../testHooks';
import type { Config } from '../config/settings';
import { ConfigError } from '../errors';
import type { NotificationApiOptions } from './client';
import { DEFAULT_PATHS } from './defaults';
import type { DrainOptions } from './drain';
import { functionTimeoutMs } from '../hostConfig';

/** A page read (gone upstream) is retried until this long after the run starts: the function timeout less a margin. */
function heldPageDeadlineMs(): number {
  const timeout = functionTimeoutMs();
  return Math.max(0, timeout - Math.min(60_000, timeout / 10));
}

/** True when the Notification API is configured (a base URL is set). */
export function notificationApiConfigured(config: Config): boolean {
  return config.NOTIFICATIONS_API_BASE_URL !== undefined;
}

export function clientOptions(config: Config): NotificationApiOptions {
  const base = config.NOTIFICATIONS_API_BASE_URL;
  const problems: string[] = [];
  if (!base) problems.push('NOTIFICATIONS_API_BASE_URL: required for the Notification API');
  if (!config.NOTIFICATIONS_CLIENT_ID) problems.push('NOTIFICATIONS_CLIENT_ID: required when NOTIFICATIONS_API_BASE_URL is set');
  if (config.NOTIFICATIONS_GRANT_TYPE === 'client_credentials' && !config.NOTIFICATIONS_CLIENT_SECRET) {
    problems.push('NOTIFICATIONS_CLIENT_SECRET: required for NOTIFICATIONS_GRANT_TYPE=client_credentials');
  }
  if (config.NOTIFICATIONS_GRANT_TYPE === 'password') {
    if (!config.NOTIFICATIONS_USERNAME) problems.push('NOTIFICATIONS_USERNAME: required for NOTIFICATIONS_GRANT_TYPE=password');
    if (!config.NOTIFICATIONS_PASSWORD) problems.push('NOTIFICATIONS_PASSWORD: required for NOTIFICATIONS_GRANT_TYPE=password');
  }
  if (
    config.NOTIFICATIONS_ADMIN_CLIENT_ID &&
    config.NOTIFICATIONS_GRANT_TYPE === 'client_credentials' &&
    !config.NOTIFICATIONS_ADMIN_CLIENT_SECRET
  ) {
    problems.push('NOTIFICATIONS_ADMIN_CLIENT_SECRET: required when NOTIFICATIONS_ADMIN_CLIENT_ID is set');
  }
  if (problems.length) throw new ConfigError(problems);
  const baseUrl = base!.replace(/\/+$/, '');
  const adminId = config.NOTIFICATIONS_ADMIN_CLIENT_ID;
  return {
    baseUrl,
    tokenUrl: config.NOTIFICATIONS_TOKEN_URL ?? `${baseUrl}${DEFAULT_PATHS.token}`,
    grantType: config.NOTIFICATIONS_GRANT_TYPE,
    username: config.NOTIFICATIONS_USERNAME,
    password: config.NOTIFICATIONS_PASSWORD,
    consumer: {
      clientId: config.NOTIFICATIONS_CLIENT_ID!,
      clientSecret: config.NOTIFICATIONS_CLIENT_SECRET,
      scope: config.NOTIFICATIONS_CONSUMER_SCOPE,
    },
    administrator: adminId
      ? { clientId: adminId, clientSecret: config.NOTIFICATIONS_ADMIN_CLIENT_SECRET, scope: config.NOTIFICATIONS_ADMIN_SCOPE }
      : {
          clientId: config.NOTIFICATIONS_CLIENT_ID!,
          clientSecret: config.NOTIFICATIONS_CLIENT_SECRET,
          scope: config.NOTIFICATIONS_ADMIN_SCOPE,
        },
    paths: {
      subscriptions: config.NOTIFICATIONS_SUBSCRIPTIONS_PATH,
      subscription: config.NOTIFICATIONS_SUBSCRIPTION_PATH,
      notifications: config.NOTIFICATIONS_NOTIFICATIONS_PATH,
    },
    pageSizeParam: config.NOTIFICATIONS_PAGE_SIZE_PARAM,
    timeoutMs: config.NOTIFICATIONS_HTTP_TIMEOUT_MS,
    pageLimits: { maxDepth: config.NOTIFICATIONS_PAGE_MAX_DEPTH, maxElements: config.NOTIFICATIONS_PAGE_MAX_ELEMENTS },
  };
}

export function drainOptions(config: Config): DrainOptions {
  return {
    queue: config.NOTIFICATIONS_QUEUE,
    format: config.NOTIFICATIONS_MESSAGE_FORMAT,
    deadLetterQueue: config.DEADLETTER_QUEUE,
    limits: { maxDepth: config.NOTIFICATIONS_MAX_DEPTH, maxElements: config.NOTIFICATIONS_MAX_ELEMENTS },
    replayAttempts: config.NOTIFICATIONS_REPLAY_ATTEMPTS,
    heldPageDeadlineMs: heldPageDeadlineMs(),
    pageSize: config.NOTIFICATIONS_PAGE_SIZE,
    timeBudgetMs: config.NOTIFICATIONS_TIME_BUDGET_SECONDS * 1000,
    pagesInFlight: config.NOTIFICATIONS_PAGES_IN_FLIGHT,
    retry: { attempts: config.NOTIFICATIONS_RETRY_ATTEMPTS, baseDelayMs: config.NOTIFICATIONS_RETRY_DELAY_MS },
    subscription: {
      fixedId: config.NOTIFICATIONS_SUBSCRIPTION_ID,
      eventTypeIds: config.NOTIFICATIONS_EVENT_TYPE_IDS,
      clientId: config.NOTIFICATIONS_SUBSCRIPTION_CLIENT_ID ?? config.NOTIFICATIONS_CLIENT_ID,
    },
    pauseAfterJournalMs: pauseAfterJournalMs(),
  };
}
