/**
 * Decoders for `DynamicParamA`. Eptura encrypts it with an unpublished algorithm keyed on the
 * ClientId, so decoding is pluggable: `none` keeps the string untouched, `json` parses it,
 * `base64-json` base64-decodes then parses it (what the sandbox sends). Parsing stays within the
 * nesting depth and element count given (see jsonLimits.ts).
 */
import { DEFAULT_JSON_LIMITS, parseJsonWithin, type JsonLimits, type JsonRefusal } from './jsonLimits';

export type DecoderName = 'none' | 'json' | 'base64-json';

export type DecodeResult = { ok: true; value: unknown; structured: boolean } | JsonRefusal;

export type Decoder = (dynamicParamA: string, limits?: JsonLimits) => DecodeResult;

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

function parseJson(text: string, limits: JsonLimits = DEFAULT_JSON_LIMITS): DecodeResult {
  const parsed = parseJsonWithin(text, limits);
  return parsed.ok ? { ok: true, value: parsed.value, structured: true } : parsed;
}

export const decoders: Record<DecoderName, Decoder> = {
  none: (s) => ({ ok: true, value: s, structured: false }),
  json: (s, limits) => parseJson(s, limits),
  'base64-json': (s, limits) => {
    const compact = s.replace(/\s+/g, '');
    if (compact.length === 0 || !BASE64.test(compact)) return { ok: false, reason: 'is not base64' };
    return parseJson(
      Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64').toString('utf8'),
      limits,
    );
  },
};

/** The decoder of that name, bound to the limits of the settings. */
export function getDecoder(name: DecoderName, limits: JsonLimits): (dynamicParamA: string) => DecodeResult {
  const decode = decoders[name];
  return (s) => decode(s, limits);
}

/** The inverse of `base64-json` (sandbox and tests). */
export function encodeBase64Json(payload: unknown): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64');
}
