/**
 * The Noojee `seq` cursor in `<CHECKPOINT_CONTAINER>/noojee/cursor.json` ({seq, updatedAt}), written
 * with ETag optimistic concurrency and compare-and-advance: the stored seq only ever grows through
 * overlapping runs. A save whose ETag is stale re-reads the cursor: if another run stored a seq at least
 * as far, the save gives way (ConcurrencyError: the other run owns the cursor now); if the other run is
 * behind, the save advances over it (with the fresh ETag), so two pollers never move it backwards.
 */
import { ConcurrencyError } from '../errors';
import type { JsonBlobStore } from '../state/jsonBlobStore';

/** Compare-and-advance attempts against concurrent writers before a save gives way. */
const MAX_ADVANCE_ATTEMPTS = 5;

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

  /**
   * Stores `seq` if the blob is still as `held` saw it. If another run wrote it meanwhile, stores `seq`
   * only over a smaller stored seq (compare-and-advance); throws ConcurrencyError when the stored seq is
   * already at least `seq`.
   */
  async save(held: HeldCursor, seq: number, now = new Date()): Promise<HeldCursor> {
    const value: NoojeeCursor = { seq, updatedAt: now.toISOString() };
    let expected: HeldCursor = held;
    for (let attempt = 1; ; attempt++) {
      try {
        const etag = await this.store.write(CURSOR_BLOB, value, expected.etag ? { ifMatch: expected.etag } : { ifNotExists: true });
        return { seq, etag };
      } catch (err) {
        if (!(err instanceof ConcurrencyError)) throw err;
        const current = await this.load();
        if (current.seq >= seq || attempt >= MAX_ADVANCE_ATTEMPTS) {
          throw new ConcurrencyError(`the Noojee cursor was advanced by another run to seq ${current.seq} (this run reached ${seq})`);
        }
        expected = current;
      }
    }
  }

  async saveLastRun(run: NoojeeLastRun): Promise<void> {
    await this.store.write(LAST_RUN_BLOB, run);
  }
}
