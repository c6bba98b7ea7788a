/**
 * Occupancy documents in blob storage (`resources/<resourceId>.json` in OCCUPANCY_CONTAINER), updated
 * with ETag optimistic concurrency: read → apply → write if unchanged since the read, else again.
 */
import { ConcurrencyError } from '../../shared/errors';
import { JsonBlobStore } from '../../shared/state/jsonBlobStore';
import type { StorageClients } from '../../shared/storage';
import { applyChanges, emptyDocument, type ApplyResult, type OccupancyChange, type OccupancyDocument } from './model';

export interface OccupancyStoreOptions {
  container: string;
  historyMs: number;
  /** Read-apply-write attempts under contention before giving up (default 10). */
  maxAttempts?: number;
}

export function resourceBlobName(resourceId: number): string {
  return `resources/${resourceId}.json`;
}

export class OccupancyStore {
  private readonly blobs: JsonBlobStore;

  constructor(
    storage: StorageClients,
    private readonly options: OccupancyStoreOptions,
  ) {
    this.blobs = new JsonBlobStore(storage, options.container);
  }

  async get(resourceId: number): Promise<OccupancyDocument | undefined> {
    return (await this.blobs.read<OccupancyDocument>(resourceBlobName(resourceId)))?.value;
  }

  /** Applies one event's changes for one resource; writes only when something changed. */
  async apply(resourceId: number, eventId: string, changes: readonly OccupancyChange[]): Promise<ApplyResult> {
    const name = resourceBlobName(resourceId);
    const maxAttempts = this.options.maxAttempts ?? 10;
    let failed: { etag: string | undefined; error: unknown } | undefined;
    for (let attempt = 1; ; attempt++) {
      const current = await this.blobs.read<OccupancyDocument>(name);
      // The write was refused yet nobody changed the blob (e.g. another process holds a lease on it):
      // not contention, so retrying here cannot help; fail and let the queue retry later.
      if (failed && current && current.etag === failed.etag) throw failed.error;
      const result = applyChanges(current?.value ?? emptyDocument(resourceId), eventId, changes, { historyMs: this.options.historyMs });
      if (!result.changed) return result;
      try {
        await this.blobs.write(name, result.document, current ? { ifMatch: current.etag } : { ifNotExists: true });
        return result;
      } catch (err) {
        if (!(err instanceof ConcurrencyError) || attempt >= maxAttempts) throw err;
        failed = { etag: current?.etag, error: err };
        // Another writer got there first: back off a little (with jitter) and redo on its version.
        await new Promise((r) => setTimeout(r, Math.min(500, 10 * 2 ** attempt) * Math.random()));
      }
    }
  }
}

/** Groups changes by resource (one document update per resource and event). */
export function byResource(changes: readonly OccupancyChange[]): Map<number, OccupancyChange[]> {
  const groups = new Map<number, OccupancyChange[]>();
  for (const c of changes) {
    const list = groups.get(c.resourceId) ?? [];
    list.push(c);
    groups.set(c.resourceId, list);
  }
  return groups;
}
