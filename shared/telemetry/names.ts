/**
 * Every OpenTelemetry metric of the bridge, in one place: stable names, units (UCUM, as OpenTelemetry
 * uses them: `{request}` is a count of requests, `ms` milliseconds, `s` seconds) and attributes.
 * README.md lists the same table (a unit test keeps the two in step), and infra/ (alerts, workbook)
 * queries them by these names: in Application Insights every metric is a row of `customMetrics`
 * (`name`, `value`/`valueSum`/`valueCount`/`valueMax`, attributes in `customDimensions`).
 *
 * Attribute names: `queue` (a queue name), `function` (the Functions function name), `status`
 * (HTTP status code), `outcome`, `reason`.
 */
export type InstrumentKind = 'counter' | 'histogram' | 'gauge';

export interface MetricSpec {
  readonly name: string;
  readonly kind: InstrumentKind;
  readonly unit: string;
  readonly description: string;
  readonly attributes: readonly string[];
}

function metric(name: string, kind: InstrumentKind, unit: string, attributes: readonly string[], description: string): MetricSpec {
  return { name: `engage_bridge.${name}`, kind, unit, attributes, description };
}

export const METRICS = {
  webhookRequests: metric(
    'webhook.requests',
    'counter',
    '{request}',
    ['status'],
    'Engage webhook POSTs answered, by HTTP status (200, 400, 401, 413, 415, 503, ...)',
  ),
  webhookNotifications: metric(
    'webhook.notifications',
    'counter',
    '{notification}',
    [],
    'Notifications in the pusher envelopes the webhook accepted',
  ),
  signatureFailures: metric(
    'webhook.signature_failures',
    'counter',
    '{request}',
    ['reason', 'mode'],
    'Webhook requests whose ms-signature was missing or wrong (mode log: accepted, enforce: 401)',
  ),
  webhookShed: metric(
    'webhook.shed',
    'counter',
    '{request}',
    ['reason'],
    'Webhook POSTs refused with 503 before any write by admission control (reason: budget, time)',
  ),
  webhookInFlight: metric(
    'webhook.in_flight',
    'gauge',
    '{message}',
    [],
    'Queue messages the webhook has in flight on this instance (admission control)',
  ),
  storageUnavailable: metric(
    'storage.unavailable',
    'counter',
    '{failure}',
    ['function'],
    'Work stopped because queue storage was unavailable (the webhook then answers 503)',
  ),
  messagesWritten: metric('queue.messages_written', 'counter', '{message}', ['queue'], 'Messages durably written to a queue'),
  archiveFailures: metric(
    'archive.failures',
    'counter',
    '{message}',
    ['queue'],
    'Messages queued but not archived (ARCHIVE_MODE=best-effort; in strict mode the request fails instead)',
  ),
  claimChecks: metric(
    'queue.claim_checks',
    'counter',
    '{message}',
    ['queue'],
    'Messages over the 64 KiB queue limit whose body went to a claim-check blob',
  ),
  drainPages: metric('drain.pages', 'counter', '{page}', [], 'Notification API pages read, journaled and enqueued'),
  drainNotifications: metric(
    'drain.notifications',
    'counter',
    '{notification}',
    [],
    'Notifications drained from the Notification API and enqueued',
  ),
  drainBacklog: metric('drain.backlog', 'gauge', '{notification}', [], 'number_of_remaining_notifications upstream after a drain run'),
  drainLost: metric(
    'drain.lost',
    'counter',
    '{notification}',
    ['reason'],
    'Notifications read from the Notification API (so gone upstream) that could be neither journaled nor enqueued; the log names their ids',
  ),
  drainQuarantined: metric(
    'drain.quarantined',
    'counter',
    '{entry}',
    ['reason'],
    'Journal entries or pages moved to quarantine (a blob with the reason) instead of blocking the drain',
  ),
  journalReplays: metric(
    'drain.journal_replays',
    'counter',
    '{entry}',
    [],
    'Journal entries (pages) a crashed drain run left, replayed by a later run',
  ),
  noojeeEvents: metric('noojee.events', 'counter', '{event}', [], 'Noojee call events enqueued'),
  noojeeCursorLag: metric(
    'noojee.cursor_lag',
    'histogram',
    's',
    [],
    'Per poll with events: seconds from receiving them to storing the cursor past them (enqueue + cursor write; Noojee events carry no upstream time)',
  ),
  consumerMessages: metric(
    'consumer.messages',
    'counter',
    '{message}',
    ['function', 'outcome'],
    'Queue messages handled by a consumer, by outcome: ok, ignored, retried, poisoned',
  ),
  consumerLatency: metric(
    'consumer.latency',
    'histogram',
    'ms',
    ['function'],
    'End to end: from the event time upstream (envelope `time`) to the end of its successful handling',
  ),
  queueDepth: metric(
    'queue.depth',
    'gauge',
    '{message}',
    ['queue'],
    'Approximate messages waiting in each queue (read by the poison monitor)',
  ),
  poisonDepth: metric(
    'poison.depth',
    'gauge',
    '{message}',
    ['queue', 'source_queue'],
    'Approximate messages in each <queue>-poison queue (read by the poison monitor)',
  ),
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** Consumer outcomes (`outcome` attribute of consumer.messages). */
export type ConsumerOutcome = 'ok' | 'ignored' | 'retried' | 'poisoned';
