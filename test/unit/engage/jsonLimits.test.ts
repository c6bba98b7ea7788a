import fc from 'fast-check';
import { exceedsJsonLimits, parseJsonWithin } from '../../../shared/engage/jsonLimits';
import { decoders } from '../../../shared/engage/decoder';
import { findResourceIds } from '../../../shared/engage/routes';

/** Reference figures, by recursion over the parsed value (fine for the small generated values). */
function figures(v: unknown): { depth: number; elements: number } {
  if (typeof v !== 'object' || v === null) return { depth: 0, elements: 0 };
  const children = Array.isArray(v) ? v : Object.values(v);
  let depth = 0;
  let elements = children.length;
  for (const c of children) {
    const f = figures(c);
    depth = Math.max(depth, f.depth);
    elements += f.elements;
  }
  return { depth: depth + 1, elements };
}

const unlimited = { maxDepth: Number.MAX_SAFE_INTEGER, maxElements: Number.MAX_SAFE_INTEGER };
/** JSON values whose strings are full of what the scan must skip: brackets, commas, quotes, backslashes. */
const tricky = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', ',', '"', '\\', 'a', ' ', '\n', '\u2028') });
const values = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.integer(), tricky, fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(tricky, tie('value'), { maxKeys: 5 }),
})).value;

describe('bounded JSON scan', () => {
  test('depth and element count match the parsed value exactly, whatever the spacing and strings', () => {
    fc.assert(
      fc.property(values, fc.constantFrom(undefined, 2, '\t'), (v, space) => {
        const text = JSON.stringify(v, null, space);
        const { depth, elements } = figures(v);
        expect(exceedsJsonLimits(text, { maxDepth: depth, maxElements: elements })).toBeUndefined();
        if (depth > 0) expect(exceedsJsonLimits(text, { ...unlimited, maxDepth: depth - 1 })?.exceeded).toBe('maxDepth');
        if (elements > 0) expect(exceedsJsonLimits(text, { ...unlimited, maxElements: elements - 1 })?.exceeded).toBe('maxElements');
      }),
      { numRuns: 500 },
    );
  });

  test('a million levels of nesting are refused without recursion (no stack overflow)', () => {
    const deep = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    expect(parseJsonWithin(deep, { maxDepth: 64, maxElements: 100 })).toEqual({
      ok: false,
      reason: 'nests deeper than 64 levels',
      exceeded: 'maxDepth',
    });
    expect(parseJsonWithin(`{"a":${'{"a":'.repeat(100)}1${'}'.repeat(101)}`, { maxDepth: 101, maxElements: 1000 }).ok).toBe(true);
  });

  test('huge arrays are refused by element count', () => {
    const huge = `[${'0,'.repeat(500_000)}0]`;
    expect(parseJsonWithin(huge, { maxDepth: 64, maxElements: 100_000 })).toMatchObject({
      ok: false,
      exceeded: 'maxElements',
      reason: 'has more than 100000 elements',
    });
    expect(parseJsonWithin(huge, { maxDepth: 64, maxElements: 500_001 }).ok).toBe(true);
  });

  test('text that is not JSON is left to JSON.parse', () => {
    expect(parseJsonWithin('{"unterminated', unlimited)).toEqual({ ok: false, reason: 'is not valid JSON' });
    expect(parseJsonWithin('[1,,2]', unlimited)).toEqual({ ok: false, reason: 'is not valid JSON' });
    expect(parseJsonWithin('', unlimited)).toEqual({ ok: false, reason: 'is not valid JSON' });
  });

  test('duplicate keys and __proto__ keys parse as JSON.parse does (last wins, own property, no prototype change)', () => {
    const r = parseJsonWithin('{"a":1,"a":2,"__proto__":{"polluted":true}}', unlimited);
    expect(r.ok).toBe(true);
    const v = (r as { value: Record<string, unknown> }).value;
    expect(v.a).toBe(2);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['a', '__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('decoders apply the limits to the decoded payload', () => {
    const limits = { maxDepth: 3, maxElements: 10 };
    expect(decoders.json('[[[1]]]', limits).ok).toBe(true);
    expect(decoders.json('[[[[1]]]]', limits)).toMatchObject({ ok: false, exceeded: 'maxDepth' });
    expect(decoders['base64-json'](Buffer.from(JSON.stringify(Array(11).fill(0))).toString('base64'), limits)).toMatchObject({
      ok: false,
      exceeded: 'maxElements',
    });
  });

  test('findResourceIds walks a 300,000-item array without spreading it onto the stack', () => {
    const items = Array.from({ length: 300_000 }, (_, i) => ({ ResourceItemID: i % 3 }));
    expect(findResourceIds(items)).toEqual(['0', '1', '2']);
  });
});
