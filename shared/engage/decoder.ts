/**
 * Decoders for `DynamicParamA`. Eptura encrypts it with an unpublished algorithm keyed on the
 * ClientId, so decoding is pluggable: `none` keeps the string untouched, `json` parses it,
 * `base64-json` base64-decodes then parses it (what the sandbox sends).
 */
export type DecoderName = 'none' | 'json' | 'base64-json';

export type DecodeResult = { ok: true; value: unknown; structured: boolean } | { ok: false; reason: string };

export type Decoder = (dynamicParamA: string) => DecodeResult;

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

function parseJson(text: string): DecodeResult {
  try {
    return { ok: true, value: JSON.parse(text) as unknown, structured: true };
  } catch {
    return { ok: false, reason: 'is not valid JSON' };
  }
}

export const decoders: Record<DecoderName, Decoder> = {
  none: (s) => ({ ok: true, value: s, structured: false }),
  json: (s) => parseJson(s),
  'base64-json': (s) => {
    const compact = s.replace(/\s+/g, '');
    if (compact.length === 0 || !BASE64.test(compact)) return { ok: false, reason: 'is not base64' };
    return parseJson(Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64').toString('utf8'));
  },
};

export function getDecoder(name: DecoderName): Decoder {
  return decoders[name];
}

/** The inverse of `base64-json` (sandbox and tests). */
export function encodeBase64Json(payload: unknown): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64');
}
