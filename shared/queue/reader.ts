/**
 * Reading side of the queue format: decodes what a queue trigger hands over (already base64-decoded
 * and JSON-parsed by the host, or a string) and resolves claim-check pointers to the stored body.
 */
import { withDeadline, type StorageClients } from '../storage';

export interface ClaimCheckPointer {
  claimcheck: string;
}

export function isClaimCheck(v: unknown): v is ClaimCheckPointer {
  return typeof v === 'object' && v !== null && typeof (v as { claimcheck?: unknown }).claimcheck === 'string';
}

/** Parses a trigger payload (object or JSON string) and, for a claim check, loads the full body from blob storage. */
export async function readMessageBody(payload: unknown, storage: StorageClients): Promise<unknown> {
  let body = payload;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return body;
    }
  }
  if (!isClaimCheck(body)) return body;
  const slash = body.claimcheck.indexOf('/');
  if (slash <= 0) throw new Error(`malformed claimcheck pointer "${body.claimcheck}"`);
  const container = body.claimcheck.slice(0, slash);
  const blob = body.claimcheck.slice(slash + 1);
  const buf = await withDeadline(storage.deadlineMs, `read claim check ${body.claimcheck}`, (abortSignal) =>
    storage.blobs.getContainerClient(container).getBlockBlobClient(blob).downloadToBuffer(0, undefined, { abortSignal }),
  );
  return JSON.parse(buf.toString('utf8'));
}
