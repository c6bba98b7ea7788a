/**
 * Reading side of the queue format: decodes what a queue trigger hands over (already base64-decoded
 * and JSON-parsed by the host, or a string) and resolves claim-check pointers to the stored body
 * (only the bridge's own, see claimCheck.ts).
 */
import type { StorageClients } from '../storage';
import { claimCheckContainer, looksLikeClaimCheck, resolveClaimCheck } from './claimCheck';

/**
 * Parses a trigger payload (object or JSON string) and, for a claim check, loads the full body from
 * blob storage. Throws InvalidClaimCheckError for a pointer that is not the bridge's.
 */
export async function readMessageBody(
  payload: unknown,
  storage: StorageClients,
  container: string = claimCheckContainer(),
): Promise<unknown> {
  let body = payload;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return body;
    }
  }
  if (!looksLikeClaimCheck(body)) return body;
  return resolveClaimCheck(body, storage, container);
}
