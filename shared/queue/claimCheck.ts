/**
 * Claim checks: a message too large for a queue is stored as a blob in the claim-check container and
 * the queue carries a pointer to it. Both sides are fixed here:
 * - the pointer (`claimCheckPointerSchema`): `claimcheck: "<container>/<blob>"` plus the marker
 *   `claimcheckby: "engage-bridge"` (and, for a CloudEvent, its attributes without `data`);
 * - the blob: a collision-free name (a readable prefix of the key plus a hash of the exact key),
 *   written once (`If-None-Match: *`), with metadata marking it as the bridge's claim check and
 *   naming the SHA-256 of its content;
 * - resolving: only a marked pointer into the configured claim-check container whose blob carries
 *   the bridge's metadata is loaded. Anything else is an InvalidClaimCheckError, never loaded.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { withDeadline, type StorageClients } from '../storage';

import { DEFAULT_CLAIM_CHECK_CONTAINER } from '../config/core';

/** Value of the pointer's `claimcheckby` field and of the blob's `claimcheckby` metadata. */
export const CLAIM_CHECK_MARKER = 'engage-bridge';

const CONTAINER = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/** The pointer a claim-checked queue message carries (CloudEvent attributes may come with it). */
export const claimCheckPointerSchema = z
  .looseObject({
    claimcheck: z
      .string()
      .max(1100)
      .refine((p) => {
        const [container, ...rest] = p.split('/');
        return (
          CONTAINER.test(container ?? '') && rest.length > 0 && rest.every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\\'))
        );
      }, 'must be "<container>/<blob>" (no empty, "." or ".." segments)')
      .describe('Where the message body is stored: "<claim-check container>/<blob name>"'),
    claimcheckby: z.literal(CLAIM_CHECK_MARKER).describe('Marks a pointer written by engage-bridge'),
  })
  .describe('A queue message whose body was moved to a claim-check blob (the body exceeded the 64 KiB queue limit)');

export type ClaimCheckPointer = z.infer<typeof claimCheckPointerSchema>;

/** The claim-check container consumers accept pointers into (CLAIM_CHECK_CONTAINER, default `claim-checks`). */
export function claimCheckContainer(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLAIM_CHECK_CONTAINER || DEFAULT_CLAIM_CHECK_CONTAINER;
}

/** A body a consumer would take for a pointer: an object with a top-level `claimcheck` field. */
export function looksLikeClaimCheck(v: unknown): v is { claimcheck: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, 'claimcheck');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * `<queue>/<readable key prefix>.<sha-256 of the exact key, 32 hex>.json`: distinct keys never share
 * a name (`evt:X` and `evt_X` differ in the hash), the same key always gives the same name.
 */
export function claimCheckBlobName(queue: string, key: string): string {
  const readable = key.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
  return `${queue}/${readable}.${sha256(key).slice(0, 32)}.json`;
}

/** Metadata of a claim-check blob (names are lower-case: the service returns them so). */
export function claimCheckMetadata(contentSha256: string): Record<string, string> {
  return { claimcheckby: CLAIM_CHECK_MARKER, sha256: contentSha256 };
}

/** A pointer that is not the bridge's, points elsewhere, or whose blob is missing, unmarked or not JSON. */
export class InvalidClaimCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidClaimCheckError';
  }
}

/**
 * Loads the body a pointer refers to, after checking the pointer (schema, container) and the blob's
 * metadata. Storage failures other than 404 are rethrown as they are (the caller retries).
 */
export async function resolveClaimCheck(
  candidate: unknown,
  storage: StorageClients,
  container: string = claimCheckContainer(),
): Promise<unknown> {
  const parsed = claimCheckPointerSchema.safeParse(candidate);
  const shown = looksLikeClaimCheck(candidate) ? JSON.stringify(candidate.claimcheck)?.slice(0, 200) : '?';
  if (!parsed.success) {
    throw new InvalidClaimCheckError(
      `claimcheck ${shown} is not a claim-check pointer of engage-bridge (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`,
    );
  }
  const pointer = parsed.data.claimcheck;
  const slash = pointer.indexOf('/');
  if (pointer.slice(0, slash) !== container)
    throw new InvalidClaimCheckError(`claimcheck ${shown} points outside the claim-check container "${container}"`);
  const blob = storage.blobs.getContainerClient(container).getBlockBlobClient(pointer.slice(slash + 1));
  let etag: string | undefined;
  try {
    const props = await withDeadline(storage.deadlineMs, `read claim check ${pointer}`, (abortSignal) =>
      blob.getProperties({ abortSignal }),
    );
    if (props.metadata?.claimcheckby !== CLAIM_CHECK_MARKER)
      throw new InvalidClaimCheckError(`claim-check blob "${pointer}" was not written by engage-bridge (no claimcheckby metadata)`);
    etag = props.etag;
    const buf = await withDeadline(storage.deadlineMs, `read claim check ${pointer}`, (abortSignal) =>
      blob.downloadToBuffer(0, undefined, { conditions: etag ? { ifMatch: etag } : undefined, abortSignal }),
    );
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch (err) {
    if (err instanceof InvalidClaimCheckError) throw err;
    if ((err as { statusCode?: number }).statusCode === 404)
      throw new InvalidClaimCheckError(`claim-check blob "${pointer}" does not exist`);
    if (err instanceof SyntaxError) throw new InvalidClaimCheckError(`claim-check blob "${pointer}" is not JSON`);
    throw err;
  }
}
