/**
 * The Noojee `seq` cursor in `<CHECKPOINT_CONTAINER>/noojee/cursor.json` ({seq, updatedAt}), written
 * with ETag optimistic concurrency: a save that loses the race (ConcurrencyError) means another
 * instance advanced the cursor and owns it now.
 */
import type { JsonBlobStore } from '../state/jsonBlobStore';

export const CURSOR_BLOB = 'noojee/cursor.json';
export const LAST_RUN_BLOB = 'noojee/last-run.json';

export interface NoojeeCursor {
  seq: number;
  updatedAt: string;
}

export interface NoojeeLastRun {
  startedAt: string;
  finishedAt: string;
  events: number;
  error?: string;
}

/** The cursor as read: seq 0 and no ETag when it was never written. */
export interface HeldCursor {
  seq: number;
  etag?: string;
}

export class CursorStore {
  constructor(private readonly store: JsonBlobStore) {}

  async load(): Promise<HeldCursor> {
    const doc = await this.store.read<NoojeeCursor>(CURSOR_BLOB);
    if (!doc) return { seq: 0 };
    const seq = Number(doc.value?.seq);
    return { seq: Number.isInteger(seq) && seq >= 0 ? seq : 0, etag: doc.etag };
  }

  /** Stores `seq` if the blob is still as `held` saw it; throws ConcurrencyError otherwise. */
  async save(held: HeldCursor, seq: number, now = new Date()): Promise<HeldCursor> {
    const value: NoojeeCursor = { seq, updatedAt: now.toISOString() };
    const etag = await this.store.write(CURSOR_BLOB, value, held.etag ? { ifMatch: held.etag } : { ifNotExists: true });
    return { seq, etag };
  }

  async saveLastRun(run: NoojeeLastRun): Promise<void> {
    await this.store.write(LAST_RUN_BLOB, run);
  }
}
