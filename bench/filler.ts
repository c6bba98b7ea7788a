/** Queue message texts of a given size for the raw baselines (kept apart: the raw server loads nothing else). */
import { encodeMessage } from '../shared/queue/writer';

/** A base64 JSON text (`{"p":"xxx…"}` encoded) whose length is `encodedLength` rounded up to a multiple of 4. */
export function messageOfEncodedLength(encodedLength: number): string {
  const rawLength = Math.max(8, Math.floor((Math.ceil(encodedLength / 4) * 4 * 3) / 4));
  const filler = 'x'.repeat(Math.max(0, rawLength - '{"p":""}'.length));
  return encodeMessage({ p: filler });
}
