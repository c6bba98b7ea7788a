/**
 * `engage-bridge status`: queue depths, poison depths, the dead-letter count, v2 drain backlog, Noojee
 * cursor and the last runs, read from the same storage and state blobs the functions write (see the state contract).
 */
import { suspectedOrphans } from '../notificationApiV2/subscription';
import { JsonBlobStore } from '../state/jsonBlobStore';
import { JOURNAL_PREFIX } from '../notificationApiV2/defaults';

/** Quarantined pages and journal entries (shared/notificationApiV2/drain.ts). */
const QUARANTINE_PREFIX = 'quarantine/';
import type { StorageClients } from '../storage';
import { POISON_SUFFIX, listQueueDepths, type QueueDepth } from '../poison/queues';

/** State documents (names in CHECKPOINT_CONTAINER), as the contract fixes them. */
export const STATE_BLOBS = {
  subscription: 'notifications/subscription.json',
  notificationsLastRun: 'notifications/last-run.json',
  noojeeCursor: 'noojee/cursor.json',
  noojeeLastRun: 'noojee/last-run.json',
} as const;

export interface SubscriptionState {
  id?: string;
  createdAt?: string;
}
export interface DrainLastRun {
  startedAt?: string;
  finishedAt?: string;
  drained?: number;
  backlog?: number;
  error?: string;
  lastKnownBacklog?: { value: number; at: string };
  warning?: string;
  deadLettered?: number;
  lost?: number;
}
export interface NoojeeCursor {
  seq?: number;
  updatedAt?: string;
}
export interface NoojeeLastRun {
  startedAt?: string;
  finishedAt?: string;
  events?: number;
  error?: string;
}

export interface StatusReport {
  storage: 'connectionString' | 'identity';
  queues: QueueDepth[];
  poisonQueues: QueueDepth[];
  /** DEADLETTER_QUEUE and how many entries it keeps (input the bridge could not decode or validate). */
  deadLetter?: QueueDepth;
  notifications: {
    subscription: SubscriptionState | null;
    lastRun: DrainLastRun | null;
    /** Journal entries a crashed run left to replay (in JOURNAL_CONTAINER). */
    journalPending: number;
    /** Pages and journal entries in quarantine (JOURNAL_CONTAINER `quarantine/`): kept with the reason, not replayed. */
    quarantined: number;
    /** Backlog the last drain run reported (null when unknown). */
    backlog: number | null;
    /** Subscription create requests sent whose answer was never recorded: a subscription may exist unread upstream. */
    suspectedOrphans?: { name: string; sentAt?: string; error?: string }[];
  };
  noojee: { cursor: NoojeeCursor | null; lastRun: NoojeeLastRun | null };
}

export async function collectStatus(
  storage: StorageClients,
  containers: { checkpoint: string; journal: string },
  deadLetterQueue?: string,
): Promise<StatusReport> {
  const state = new JsonBlobStore(storage, containers.checkpoint);
  const journal = new JsonBlobStore(storage, containers.journal);
  const read = async <T>(name: string) => (await state.read<T>(name))?.value ?? null;
  const [all, subscription, lastRun, cursor, noojeeLastRun, journalEntries, orphans] = await Promise.all([
    listQueueDepths(storage.queues),
    read<SubscriptionState>(STATE_BLOBS.subscription),
    read<DrainLastRun>(STATE_BLOBS.notificationsLastRun),
    read<NoojeeCursor>(STATE_BLOBS.noojeeCursor),
    read<NoojeeLastRun>(STATE_BLOBS.noojeeLastRun),
    journal.list(),
    suspectedOrphans(state),
  ]);
  return {
    storage: storage.mode,
    queues: all.filter((q) => !q.name.endsWith(POISON_SUFFIX) && q.name !== deadLetterQueue),
    poisonQueues: all.filter((q) => q.name.endsWith(POISON_SUFFIX)),
    ...(deadLetterQueue ? { deadLetter: all.find((q) => q.name === deadLetterQueue) ?? { name: deadLetterQueue, depth: 0 } } : {}),
    notifications: {
      subscription,
      lastRun,
      journalPending: journalEntries.filter((name) => name.startsWith(JOURNAL_PREFIX)).length,
      quarantined: journalEntries.filter((name) => name.startsWith(QUARANTINE_PREFIX)).length,
      backlog: typeof lastRun?.backlog === 'number' ? lastRun.backlog : null,
      suspectedOrphans: orphans.map((o) => ({ name: o.name, sentAt: o.sentAt, ...(o.error ? { error: o.error } : {}) })),
    },
    noojee: { cursor, lastRun: noojeeLastRun },
  };
}

function run(r: { startedAt?: string; finishedAt?: string; error?: string } | null, counts: string): string {
  if (!r) return 'never';
  const when = r.finishedAt ? `finished ${r.finishedAt}` : `started ${r.startedAt ?? '?'}, not finished`;
  return `${when}, ${counts}${r.error ? `, error: ${r.error}` : ''}`;
}

/** Human-readable report (the CLI prints it; `--json` prints the report itself). */
export function formatStatus(s: StatusReport): string {
  const width = Math.max(20, ...[...s.queues, ...s.poisonQueues].map((q) => q.name.length)) + 2;
  const rows = (list: QueueDepth[]) => (list.length ? list.map((q) => `  ${q.name.padEnd(width)}${q.depth}`) : ['  (none)']);
  const n = s.notifications;
  const lines = [
    `Storage: ${s.storage === 'identity' ? 'managed identity' : 'connection string'}`,
    'Queues (approximate depth):',
    ...rows(s.queues),
    `Poison queues${s.poisonQueues.some((q) => q.depth > 0) ? ' (replay with: engage-bridge poison replay --queue <queue>)' : ''}:`,
    ...rows(s.poisonQueues),
    ...(s.deadLetter
      ? [
          'Dead-letter queue (input that could not be decoded or validated, kept with the reason):',
          `  ${s.deadLetter.name.padEnd(width)}${s.deadLetter.depth}`,
        ]
      : []),
    'Notification API v2 drain:',
    `  subscription: ${n.subscription?.id ? `${n.subscription.id}${n.subscription.createdAt ? ` (created ${n.subscription.createdAt})` : ''}` : 'none'}`,
    `  last run: ${run(n.lastRun, `drained ${n.lastRun?.drained ?? '?'}`)}`,
    `  backlog: ${n.backlog ?? (n.lastRun?.lastKnownBacklog ? `unknown (last known ${n.lastRun.lastKnownBacklog.value} at ${n.lastRun.lastKnownBacklog.at})` : 'unknown')}${n.journalPending ? `, ${n.journalPending} journal entr${n.journalPending === 1 ? 'y' : 'ies'} pending replay` : ''}`,
    ...(n.quarantined ? [`  quarantined: ${n.quarantined} (blobs under quarantine/ in the journal container, each with its reason)`] : []),
    ...(n.lastRun?.warning ? [`  warning: ${n.lastRun.warning}`] : []),
    ...(n.suspectedOrphans ?? []).map(
      (o) =>
        `  SUSPECTED ORPHAN subscription: a create sent ${o.sentAt ?? '?'} got no recorded answer${o.error ? ` (${o.error})` : ''}; see \`subscriptions status\``,
    ),
    ...(n.lastRun?.lost ? [`  LOST in the last run: ${n.lastRun.lost} notification(s) (the log names their ids)`] : []),
    'Noojee call events:',
    `  cursor: ${s.noojee.cursor?.seq !== undefined ? `seq ${s.noojee.cursor.seq}${s.noojee.cursor.updatedAt ? ` (updated ${s.noojee.cursor.updatedAt})` : ''}` : 'none'}`,
    `  last run: ${run(s.noojee.lastRun, `${s.noojee.lastRun?.events ?? '?'} event(s)`)}`,
  ];
  return `${lines.join('\n')}\n`;
}
