/**
 * Reading side of the queue format: decodes what a queue trigger hands over (already base64-decoded
 * and JSON-parsed by the host, or a string) and resolves claim-check pointers to the stored body.
 */
import { z } from 'zod';
import { cloudEventSchema } from '../envelope';
import type { StorageClients } from '../storage';

const claimcheck = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\/.+$/, 'must be "<container>/<blob>"')
  .describe('Where the full message body is stored: "<blob container>/<blob name>" in the same storage account.');

/**
 * The queue message written instead of a body over the queue limit (see QueueWriter): the envelope
 * attributes without `data` plus `claimcheck`, or (raw bodies, or attributes themselves too large)
 * `claimcheck` alone. The blob holds the message body exactly as it would have been queued.
 */
export const claimCheckPointerSchema = z.union([
  cloudEventSchema.omit({ data: true }).extend({ claimcheck }).strict(),
  z.strictObject({ claimcheck }),
]);

export type ClaimCheckPointer = z.infer<typeof claimCheckPointerSchema>;

export function isClaimCheck(v: unknown): v is ClaimCheckPointer {
  return typeof v === 'object' && v !== null && typeof (v as { claimcheck?: unknown }).claimcheck === 'string';
}

/** JSON text parsed; any other text kept as it is (what a raw-format message may be). */
function parseText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Parses a trigger payload (object or JSON string) and, for a claim check, loads the full body from
 * blob storage: the body exactly as it would have been queued (JSON, or the text of a raw body).
 */
export async function readMessageBody(payload: unknown, storage: StorageClients): Promise<unknown> {
  const body = typeof payload === 'string' ? parseText(payload) : payload;
  if (!isClaimCheck(body)) return body;
  const slash = body.claimcheck.indexOf('/');
  if (slash <= 0) throw new Error(`malformed claimcheck pointer "${body.claimcheck}"`);
  const container = body.claimcheck.slice(0, slash);
  const blob = body.claimcheck.slice(slash + 1);
  const buf = await storage.blobs.getContainerClient(container).getBlockBlobClient(blob).downloadToBuffer();
  return parseText(buf.toString('utf8'));
}
