/**
 * The ASP.NET WebHooks signature: header `ms-signature: sha256=<HEX(HMAC-SHA256(UTF8(secret), raw body))>`.
 * Verification compares in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'ms-signature';

export function signBody(secret: string, body: Uint8Array | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export type SignatureCheck = 'valid' | 'missing' | 'malformed' | 'mismatch';

/** Checks an `ms-signature` header value against the raw body. */
export function checkSignature(secret: string, body: Uint8Array, header: string | null | undefined): SignatureCheck {
  if (!header) return 'missing';
  // The header may list several values (`sha256=a,sha256=b`); any valid one passes.
  const candidates = header
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const expected = createHmac('sha256', secret).update(body).digest();
  let sawWellFormed = false;
  for (const c of candidates) {
    const m = /^sha256=([0-9a-fA-F]{64})$/.exec(c);
    if (!m) continue;
    sawWellFormed = true;
    if (timingSafeEqual(Buffer.from(m[1], 'hex'), expected)) return 'valid';
  }
  return sawWellFormed ? 'mismatch' : 'malformed';
}

/**
 * Checks the header against the current secret and, during a rotation, the previous one. Both are
 * always computed and compared (no early exit), so the answer's timing does not tell which one matched.
 * `previous` is true when only the previous secret matched (the pusher still signs with it).
 */
export function checkSignatureRotating(
  secrets: { current: string; previous?: string | undefined },
  body: Uint8Array,
  header: string | null | undefined,
): { check: SignatureCheck; previous: boolean } {
  const current = checkSignature(secrets.current, body, header);
  const previous = secrets.previous !== undefined ? checkSignature(secrets.previous, body, header) : undefined;
  if (current === 'valid') return { check: 'valid', previous: false };
  if (previous === 'valid') return { check: 'valid', previous: true };
  return { check: current, previous: false };
}
