/**
 * Bounded JSON: a nesting depth and an element count checked on the text, in one pass and without
 * recursion, before `JSON.parse` builds anything. Deeper documents would overflow the stack later
 * (`JSON.stringify`, schema checks) and huge arrays would cost memory and time far beyond what a
 * real push needs; both are refused with a reason instead.
 */

export interface JsonLimits {
  /** Deepest nesting of arrays/objects allowed (`[]` is depth 1). */
  maxDepth: number;
  /** Most elements allowed in the whole document: array items plus object members, at any depth. */
  maxElements: number;
}

/** The defaults of ENGAGE_WEBHOOK_MAX_DEPTH and ENGAGE_WEBHOOK_MAX_ELEMENTS. */
export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 64, maxElements: 100_000 };

/** Why a text was refused: the limit it exceeds (if any) and a reason to answer with. */
export interface JsonRefusal {
  ok: false;
  reason: string;
  exceeded?: keyof JsonLimits;
}

export type JsonParseResult = { ok: true; value: unknown } | JsonRefusal;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Checks `text` against the limits; returns the refusal when it exceeds one, else undefined. Counts
 * what valid JSON would hold (strings are skipped whole, escapes included); text that is not JSON
 * is left for `JSON.parse` to refuse.
 */
export function exceedsJsonLimits(text: string, limits: JsonLimits): JsonRefusal | undefined {
  let depth = 0;
  let elements = 0;
  let justOpened = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isWhitespace(c)) continue;
    if (justOpened) {
      justOpened = false;
      // The first element of a non-empty container.
      if (c !== CLOSE_ARRAY && c !== CLOSE_OBJECT && ++elements > limits.maxElements) return tooManyElements(limits);
    }
    switch (c) {
      case QUOTE: {
        // Jump to the closing quote: the first one not preceded by an odd number of backslashes.
        let end = i;
        for (;;) {
          end = text.indexOf('"', end + 1);
          if (end < 0) return undefined; // unterminated string: not JSON
          let backslashes = 0;
          while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
          if (backslashes % 2 === 0) break;
        }
        i = end;
        break;
      }
      case OPEN_ARRAY:
      case OPEN_OBJECT:
        if (++depth > limits.maxDepth) return { ok: false, reason: `nests deeper than ${limits.maxDepth} levels`, exceeded: 'maxDepth' };
        justOpened = true;
        break;
      case CLOSE_ARRAY:
      case CLOSE_OBJECT:
        depth--;
        break;
      case COMMA: // each further element
        if (++elements > limits.maxElements) return tooManyElements(limits);
        break;
    }
  }
  return undefined;
}

function tooManyElements(limits: JsonLimits): JsonRefusal {
  return { ok: false, reason: `has more than ${limits.maxElements} elements`, exceeded: 'maxElements' };
}

/** `JSON.parse` within the limits: the reason names the limit exceeded, or says the text is not JSON. */
export function parseJsonWithin(text: string, limits: JsonLimits): JsonParseResult {
  const exceeded = exceedsJsonLimits(text, limits);
  if (exceeded) return exceeded;
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, reason: 'is not valid JSON' };
  }
}
