/**
 * The drain's quarantine (JOURNAL_CONTAINER `quarantine/<journal entry name>`): pages that could not be
 * taken (over the page limits, not JSON, `results` not an array) and journal entries whose replay kept
 * failing, each kept as raw text with the reason. An operator lists, shows, replays or discards them
 * (`engage-bridge notifications quarantine`). A replay uses the original entry name, so the envelope
 * ids are the same ones a normal drain would have given (`<entry name>:<index>`): consumers deduplicate.
 */
import type { QueueWriter } from '../queue/writer';
import type { JsonBlobStore } from '../state/jsonBlobStore';
import { parseJsonWithin, type JsonLimits } from '../engage/jsonLimits';
import { DEFAULT_JSON_LIMITS } from '../engage/jsonLimits';
import { messagesFor, type JournalEntry, type MessageOptions } from './journal';
import { boundPage } from './pageLimits';

export const QUARANTINE_PREFIX = 'quarantine/';

export interface QuarantinedItem {
  /** Quarantine blob name (`quarantine/notifications/<run>/<page>`). */
  name: string;
  /** Why it is there (older blobs may have none). */
  reason: string;
  /** `page` (a response not taken) or the journal entry it came from. */
  from: string;
  at?: string;
  subscriptionId?: string;
  source?: string;
  /** The raw text kept: the page's response, or the journal entry. */
  text: string;
}

interface StoredQuarantine {
  reason?: unknown;
  from?: unknown;
  subscriptionId?: unknown;
  source?: unknown;
  receivedAt?: unknown;
  quarantinedAt?: unknown;
  text?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Names of the quarantined items, oldest first. */
export async function listQuarantine(journal: JsonBlobStore): Promise<string[]> {
  return (await journal.list(QUARANTINE_PREFIX)).sort();
}

/** One quarantined item, or undefined when there is none of that name (`quarantine/` may be left out). */
export async function readQuarantined(journal: JsonBlobStore, id: string): Promise<(QuarantinedItem & { etag: string }) | undefined> {
  const name = quarantineBlobName(id);
  const raw = await journal.readText(name);
  if (!raw) return undefined;
  // The wrapper is ours (small: a few strings); the untrusted page is the `text` string inside it.
  const stored = JSON.parse(raw.value) as StoredQuarantine;
  return {
    name,
    etag: raw.etag,
    reason: str(stored.reason) ?? '(no reason recorded)',
    from: str(stored.from) ?? 'page',
    at: str(stored.quarantinedAt) ?? str(stored.receivedAt),
    subscriptionId: str(stored.subscriptionId),
    source: str(stored.source),
    text: str(stored.text) ?? '',
  };
}

export function quarantineBlobName(id: string): string {
  if (!/^[A-Za-z0-9/_.:-]+$/.test(id) || id.includes('..')) throw new Error(`not a quarantine id: ${JSON.stringify(id)}`);
  return id.startsWith(QUARANTINE_PREFIX) ? id : `${QUARANTINE_PREFIX}${id}`;
}

/**
 * The notifications of a quarantined text: a page (`results` an array, an object of notifications, or
 * null), a bare array, or a journal entry (its `results`). Parsed within `limits` (one-pass scan first).
 */
export function notificationsOf(text: string, limits: JsonLimits): unknown[] {
  const parsed = parseJsonWithin(text, limits);
  if (!parsed.ok) throw new Error(`the quarantined text ${parsed.reason} (raise --max-depth / --max-elements to replay it)`);
  const value = parsed.value;
  if (Array.isArray(value)) return value;
  if (value === null || typeof value !== 'object') throw new Error('the quarantined text is neither a page nor an array of notifications');
  const results = (value as { results?: unknown }).results;
  if (results === null || results === undefined) return [];
  if (Array.isArray(results)) return results;
  if (typeof results === 'object') return Object.values(results as Record<string, unknown>);
  throw new Error(`the quarantined page's results is a ${typeof results}, not notifications`);
}

export interface ReplayQuarantinedOptions extends MessageOptions {
  /** Bounds for parsing the whole text (default: the page defaults raised by the caller if needed). */
  textLimits: JsonLimits;
  /** Bounds on each notification (over them: dead-lettered, as in the drain). */
  limits?: JsonLimits;
  /** Envelope source when the blob does not record one (the API base URL). */
  source: string;
  dryRun?: boolean;
}

/** Enqueues a quarantined item's notifications with the ids the drain would have given, then removes it. */
export async function replayQuarantined(
  deps: { journal: JsonBlobStore; writer: Pick<QueueWriter, 'sendAll'> },
  id: string,
  options: ReplayQuarantinedOptions,
): Promise<{ name: string; entryName: string; messages: number; deadLettered: number }> {
  const item = await readQuarantined(deps.journal, id);
  if (!item) throw new Error(`no quarantined item ${id}`);
  const results = notificationsOf(item.text, options.textLimits);
  // A journal entry's text carries its own source/subscription; keep them when present.
  let recorded: Partial<JournalEntry> = {};
  if (item.from !== 'page') {
    const parsed = parseJsonWithin(item.text, options.textLimits);
    if (parsed.ok && parsed.value && typeof parsed.value === 'object' && !Array.isArray(parsed.value)) recorded = parsed.value;
  }
  const entryName = item.name.slice(QUARANTINE_PREFIX.length);
  const bounded = boundPage(results, options.limits ?? DEFAULT_JSON_LIMITS);
  const entry: JournalEntry = {
    version: 1,
    subscriptionId: str(recorded.subscriptionId) ?? item.subscriptionId ?? 'unknown',
    source: str(recorded.source) ?? item.source ?? options.source,
    readAt: str(recorded.readAt) ?? item.at ?? new Date().toISOString(),
    page: null,
    results: bounded.results,
    ...(bounded.rejected.length ? { rejected: bounded.rejected } : {}),
  };
  const messages = messagesFor(entryName, entry, options);
  if (!options.dryRun) {
    await deps.writer.sendAll(messages);
    await deps.journal.delete(item.name, { ifMatch: item.etag });
  }
  return { name: item.name, entryName, messages: messages.length - bounded.rejected.length, deadLettered: bounded.rejected.length };
}

/** Deletes one quarantined item (only if unchanged since it was read). */
export async function discardQuarantined(journal: JsonBlobStore, id: string): Promise<string> {
  const item = await readQuarantined(journal, id);
  if (!item) throw new Error(`no quarantined item ${id}`);
  await journal.delete(item.name, { ifMatch: item.etag });
  return item.name;
}
