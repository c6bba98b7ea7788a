import { z } from 'zod';
import { containerName } from './core';

/** Default blob container of the event archive (see docs/archive.md). */
export const DEFAULT_ARCHIVE_CONTAINER = 'engage-bridge-archive';

/**
 * Settings of the event archive (issue 27): every message the bridge enqueues is also appended to a
 * blob, to be found and replayed with `engage-bridge archive`. Retention is not an app setting: it is
 * the storage account's lifecycle rule (`ARCHIVE_RETENTION_DAYS` at deploy time, see infra/).
 */
export const archiveSettings = z.object({
  /**
   * `strict` (default): a request is acknowledged only when its messages are both queued and archived
   * (archive down → 503, as queue down); `best-effort`: archive failures are logged and counted, the
   * request still succeeds once queued; `off`: nothing is archived.
   */
  ARCHIVE_MODE: z.enum(['strict', 'best-effort', 'off']).default('strict').meta({
    description:
      'event archive ([docs/archive.md](docs/archive.md)): `strict` = acknowledged only once queued *and* archived (archive down → 503), `best-effort` = archive failures logged and counted, `off`',
  }),
  /** Blob container of the archive (append blobs `<source>/<yyyy>/<mm>/<dd>/<hh>/<instance>.jsonl`). */
  ARCHIVE_CONTAINER: containerName(DEFAULT_ARCHIVE_CONTAINER).meta({
    description: 'blob container of the archive; retention is the deploy-time `ARCHIVE_RETENTION_DAYS` (default 30, a lifecycle rule)',
  }),
});

export type ArchiveSettings = z.infer<typeof archiveSettings>;
export type ArchiveMode = ArchiveSettings['ARCHIVE_MODE'];
