/**
 * Bounds on each notification of a page, checked before the page is journaled: a notification nested
 * deeper than NOTIFICATIONS_MAX_DEPTH or with more than NOTIFICATIONS_MAX_ELEMENTS values could not be
 * serialised (JSON.stringify recurses) or enqueued, and would cost the valid ones on its page. It is
 * dead-lettered instead; the others go on. Iterative (an explicit stack): no recursion on untrusted data.
 */
import type { JsonLimits } from '../engage/jsonLimits';

export interface RejectedNotification {
  /** Index of the notification in the page's `results` (its envelope id stays `<entry>:<index>`). */
  index: number;
  reason: string;
  /** Its top-level scalar fields (ids, type, timestamp): the nested value itself is over the limits. */
  summary: Record<string, string | number | boolean | null>;
}

/** Why `value` is over the limits, or undefined when it is within them. Stops at the first breach. */
export function overLimits(value: unknown, limits: JsonLimits): string | undefined {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  let elements = 0;
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    elements++;
    if (elements > limits.maxElements) return `has more than ${limits.maxElements} values (NOTIFICATIONS_MAX_ELEMENTS)`;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > limits.maxDepth) return `nests deeper than ${limits.maxDepth} levels (NOTIFICATIONS_MAX_DEPTH)`;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: child, depth: depth + 1 });
  }
  return undefined;
}

function summaryOf(value: unknown): RejectedNotification['summary'] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const summary: RejectedNotification['summary'] = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null || typeof v === 'boolean' || typeof v === 'number') summary[k] = v;
    else if (typeof v === 'string') summary[k] = v.length > 256 ? `${v.slice(0, 256)}…` : v;
  }
  return summary;
}

/**
 * Splits a page: `results` keeps every index (a rejected notification becomes null there, so the others
 * keep their envelope ids), `rejected` lists what goes to the dead-letter queue and why.
 */
export function boundPage(results: readonly unknown[], limits: JsonLimits): { results: unknown[]; rejected: RejectedNotification[] } {
  const rejected: RejectedNotification[] = [];
  const kept = results.map((n, index) => {
    const reason = overLimits(n, limits);
    if (reason === undefined) return n;
    rejected.push({ index, reason: `notification ${index} of the page ${reason}`, summary: summaryOf(n) });
    return null;
  });
  return { results: kept, rejected };
}
