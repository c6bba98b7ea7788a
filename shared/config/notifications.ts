import { z } from 'zod';
import { boolSetting, intSetting, queueName } from './core';
import { DEFAULT_JSON_LIMITS } from '../engage/jsonLimits';
import {
  ADMINISTRATOR_SCOPE,
  CONSUMER_SCOPE,
  DEFAULT_DRAIN_SCHEDULE,
  DEFAULT_PAGE_LIMITS,
  DEFAULT_PATHS,
} from '../notificationApiV2/defaults';

/** A path template relative to the API base URL; `{id}` is replaced by the subscription id. */
function pathTemplate(defaultValue: string, needsId: boolean) {
  return z
    .string()
    .regex(/^\/\S*$/, 'must be a path starting with "/"')
    .refine((p) => !needsId || p.includes('{id}'), 'must contain the placeholder {id}')
    .default(defaultValue);
}

/** Comma-separated list of event type ids (numeric strings such as 301), non-empty and unique. */
const eventTypeIds = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== ''),
  )
  .pipe(
    z
      .array(z.string().regex(/^[\p{L}0-9._-]+$/u, 'event type ids are letters, digits, ".", "_" or "-"'))
      .min(1, 'must list at least one event type id')
      .refine((ids) => new Set(ids).size === ids.length, 'event type ids must be unique'),
  );

const clientId = z.string().regex(/^[\p{L}0-9._-]+$/u, 'must match ^[\\p{L}0-9._-]+$ (an OAuth client id)');

/**
 * Settings of the Notification API (v2 events) drain. Everything is optional or defaulted: with no
 * `NOTIFICATIONS_API_BASE_URL` the drain is off (the timer logs one line). When it is set, the
 * credentials the chosen grant needs are required (checked by `shared/notificationApiV2/settings.ts`).
 */
export const notificationsSettings = z.object({
  /** Base URL of the Notification API, e.g. https://tenant.onewelcome.com. Unset = drain off. */
  NOTIFICATIONS_API_BASE_URL: z.url().optional().meta({ description: 'API base URL', default: '– (drain off)' }),
  /** OAuth token endpoint; default `<base URL>/auth/oauth2.0/v1/token` (OneWelcome's documented path). */
  NOTIFICATIONS_TOKEN_URL: z.url().optional().meta({ description: 'OAuth token endpoint', default: '`<base>/auth/oauth2.0/v1/token`' }),
  NOTIFICATIONS_GRANT_TYPE: z
    .enum(['client_credentials', 'password'])
    .default('client_credentials')
    .meta({ description: 'OAuth grant: `client_credentials` or `password`' }),
  /** Consumer client (scope notification:consent:consumer): reads subscriptions and notifications. */
  NOTIFICATIONS_CLIENT_ID: clientId.optional().meta({ description: 'consumer client', default: '– (required with the base URL)' }),
  NOTIFICATIONS_CLIENT_SECRET: z.string().min(1).optional().meta({ description: 'secret of the consumer client' }),
  /** Resource-owner credentials for the `password` grant. */
  NOTIFICATIONS_USERNAME: z.string().min(1).optional().meta({ description: 'resource-owner user name (`password` grant only)' }),
  NOTIFICATIONS_PASSWORD: z.string().min(1).optional().meta({ description: 'resource-owner password (`password` grant only)' }),
  /** Administrator client (scope notification:consent:administrator): creates/deletes subscriptions. Default: the consumer client. */
  NOTIFICATIONS_ADMIN_CLIENT_ID: clientId
    .optional()
    .meta({ description: 'client with the administrator scope (creates and deletes subscriptions)', default: "the consumer's" }),
  NOTIFICATIONS_ADMIN_CLIENT_SECRET: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'secret of the administrator client', default: "the consumer's" }),
  NOTIFICATIONS_CONSUMER_SCOPE: z
    .string()
    .min(1)
    .default(CONSUMER_SCOPE)
    .meta({ description: 'OAuth scope requested for reading (status, notifications)', advanced: true }),
  NOTIFICATIONS_ADMIN_SCOPE: z
    .string()
    .min(1)
    .default(ADMINISTRATOR_SCOPE)
    .meta({ description: 'OAuth scope requested for creating and deleting subscriptions', advanced: true }),
  /** `client_id` of created subscriptions (whose token may read them). Default: NOTIFICATIONS_CLIENT_ID. */
  NOTIFICATIONS_SUBSCRIPTION_CLIENT_ID: clientId
    .optional()
    .meta({ description: '`client_id` of the subscription', default: '`NOTIFICATIONS_CLIENT_ID`' }),
  /** Event type ids to subscribe to, comma-separated (e.g. `101,102,301`). Required to create a subscription. */
  NOTIFICATIONS_EVENT_TYPE_IDS: eventTypeIds.optional().meta({ description: 'e.g. `101,301`', default: '– (needed to create)' }),
  /** Use this existing subscription (created by an administrator) instead of creating one. */
  NOTIFICATIONS_SUBSCRIPTION_ID: clientId.optional().meta({ description: 'use this existing subscription, never create one' }),
  NOTIFICATIONS_SUBSCRIPTIONS_PATH: pathTemplate(DEFAULT_PATHS.subscriptions, false).meta({
    description: 'create path (not public upstream: an assumption)',
  }),
  NOTIFICATIONS_SUBSCRIPTION_PATH: pathTemplate(DEFAULT_PATHS.subscription, true).meta({
    description: 'get / delete path (not public upstream: an assumption)',
  }),
  NOTIFICATIONS_NOTIFICATIONS_PATH: pathTemplate(DEFAULT_PATHS.notifications, true).meta({
    description: 'destructive read path (not public upstream: an assumption)',
  }),
  /** Requested page size (query parameter NOTIFICATIONS_PAGE_SIZE_PARAM); the server may cap it. */
  NOTIFICATIONS_PAGE_SIZE: intSetting(100, 1, 10_000).meta({
    description: 'Requested page size (query parameter NOTIFICATIONS_PAGE_SIZE_PARAM); the server may cap it.',
  }),
  NOTIFICATIONS_PAGE_SIZE_PARAM: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default('size')
    .meta({ description: 'name of the page-size query parameter', advanced: true }),
  /** Timer schedule (NCRONTAB, six fields). */
  NOTIFICATIONS_SCHEDULE: z
    .string()
    .min(1)
    .default(DEFAULT_DRAIN_SCHEDULE)
    .meta({ description: 'timer (`%NOTIFICATIONS_SCHEDULE%`, NCRONTAB with six fields)' }),
  NOTIFICATIONS_RUN_ON_STARTUP: boolSetting(false).meta({ description: 'also run the drain when the host starts' }),
  /** A run stops reading new pages after this many seconds (what it read is still enqueued). */
  NOTIFICATIONS_TIME_BUDGET_SECONDS: intSetting(240, 1, 3600).meta({
    description: 'stop reading new pages after this (a page already read is kept trying until the function timeout)',
    advanced: true,
  }),
  /** Timeout of one HTTP request to the API or token endpoint. */
  NOTIFICATIONS_HTTP_TIMEOUT_MS: intSetting(30_000, 100, 300_000).meta({
    description: 'Timeout of one HTTP request to the API or token endpoint.',
    advanced: true,
  }),
  /** Retries of a failed call (5xx, 429, timeout, network) within a run, with exponential back-off. */
  NOTIFICATIONS_RETRY_ATTEMPTS: intSetting(3, 0, 10).meta({
    description: 'retries of a transient failure (5xx, 408, 429, timeout, network) within a run',
    advanced: true,
  }),
  NOTIFICATIONS_RETRY_DELAY_MS: intSetting(1000, 0, 60_000).meta({
    description:
      "first retry delay, doubling with ±20 % jitter; an answer with `Retry-After` (seconds or HTTP-date) is retried after exactly that wait, and not at all when it ends after the run's time budget",
    advanced: true,
  }),
  /** Queue writes in flight at most per page. */
  NOTIFICATIONS_ENQUEUE_CONCURRENCY: intSetting(32, 1, 256).meta({
    description: 'Queue writes in flight at most per page.',
    advanced: true,
  }),
  /** Pages read ahead while earlier pages are still being enqueued (each journaled first). */
  NOTIFICATIONS_PAGES_IN_FLIGHT: intSetting(2, 1, 16).meta({
    description: 'Pages read ahead while earlier pages are still being enqueued (each journaled first).',
    advanced: true,
  }),
  NOTIFICATIONS_QUEUE: queueName().default('notifications-v2').meta({ description: 'queue of the v2 notifications' }),
  NOTIFICATIONS_MESSAGE_FORMAT: z.enum(['cloudevents', 'raw']).default('cloudevents').meta({ description: '`cloudevents` \\| `raw`' }),
  /** A notification nested deeper than this is dead-lettered (the rest of its page goes on). */
  NOTIFICATIONS_MAX_DEPTH: intSetting(DEFAULT_JSON_LIMITS.maxDepth, 3, 1000).meta({
    description: 'A notification nested deeper than this is dead-lettered (the rest of its page goes on).',
    advanced: true,
  }),
  /** A notification with more values (array items + object members, at any depth) is dead-lettered. */
  NOTIFICATIONS_MAX_ELEMENTS: intSetting(DEFAULT_JSON_LIMITS.maxElements, 10, 10_000_000).meta({
    description: 'A notification with more values (array items + object members, at any depth) is dead-lettered.',
    advanced: true,
  }),
  /** A whole notifications page nested deeper than this (scanned on its text before parsing) is quarantined. */
  NOTIFICATIONS_PAGE_MAX_DEPTH: intSetting(DEFAULT_PAGE_LIMITS.maxDepth, 3, 1000).meta({
    description:
      "a whole page nested deeper, scanned on the response text before it is parsed (the webhook's one-pass scanner), is quarantined whole (raw text + reason under `quarantine/` in the journal container; `engage-bridge notifications quarantine`) and the run stops",
    advanced: true,
  }),
  /** A whole notifications page with more values than this (array items + object members) is quarantined. */
  NOTIFICATIONS_PAGE_MAX_ELEMENTS: intSetting(DEFAULT_PAGE_LIMITS.maxElements, 10, 100_000_000).meta({
    description:
      'a whole page with more values (array items + object members) is quarantined whole, as above; so is a page that is not JSON or whose `results` is not an array',
    advanced: true,
  }),
  /** Tries of a journal entry whose replay fails for a reason other than storage, before it moves to quarantine. */
  NOTIFICATIONS_REPLAY_ATTEMPTS: intSetting(3, 1, 100).meta({
    description:
      'tries of a journal entry whose replay fails for a reason other than storage before it moves to `quarantine/` in the journal container (kept with the reason; the drain goes on)',
    advanced: true,
  }),
});

/** Names of the settings above whose values are secrets. */
export const notificationsSecrets: readonly string[] = [
  'NOTIFICATIONS_CLIENT_SECRET',
  'NOTIFICATIONS_PASSWORD',
  'NOTIFICATIONS_ADMIN_CLIENT_SECRET',
];
