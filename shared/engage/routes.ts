/**
 * Routes of Engage notifications to queues: each route lists event types (by name or listener-API
 * number) and a queue; a route with `resourceIds` is the AzureQueueFiltered mode (only notifications
 * about those resources pass). A notification goes to every route listing its Action; an Action no
 * route lists goes to the unrouted queue (kept, never dropped).
 */
import { z } from 'zod';
import { queueName } from '../config/core';
import { EVENT_TYPES, EVENT_TYPE_NAMES, eventTypeName, type EventTypeName } from './events';

/** An event type given by name (`DESK`, case-insensitive) or listener-API number (2). */
export const eventTypeRef = z.union([z.string(), z.number()]).transform((v, ctx): EventTypeName => {
  const name = typeof v === 'number' ? eventTypeName(v) : EVENT_TYPE_NAMES.find((n) => n === v.toUpperCase());
  if (!name) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown event type ${JSON.stringify(v)} (expected one of ${EVENT_TYPE_NAMES.map((n) => `${n}=${EVENT_TYPES[n]}`).join(', ')})`,
    });
    return z.NEVER;
  }
  return name;
});

export const engageRouteSchema = z.strictObject({
  eventTypes: z.array(eventTypeRef).min(1, 'a route needs at least one event type'),
  queue: queueName(),
  /** AzureQueueFiltered mode: only notifications about these resources pass. */
  resourceIds: z
    .array(z.union([z.number().int(), z.string().min(1)]).transform(String))
    .min(1)
    .optional(),
  /** Overrides ENGAGE_MESSAGE_FORMAT for this route. */
  format: z.enum(['cloudevents', 'raw']).optional(),
});

export const engageRoutesSchema = z.array(engageRouteSchema).min(1, 'at least one route is required');

export type EngageRoute = z.infer<typeof engageRouteSchema>;

/** The default queue of an event type: `engage-<action lower-case>`. */
export function defaultQueueFor(action: EventTypeName): string {
  return `engage-${action.toLowerCase()}`;
}

/** Default ENGAGE_ROUTES: one queue per event type. */
export const DEFAULT_ENGAGE_ROUTES_JSON = JSON.stringify(EVENT_TYPE_NAMES.map((n) => ({ eventTypes: [n], queue: defaultQueueFor(n) })));

export interface RouteTarget {
  queue: string;
  format: 'cloudevents' | 'raw' | undefined;
  /** Set for filtered routes. */
  resourceIds?: ReadonlySet<string>;
}

export interface RouteTable {
  /** Targets per Action (upper-case name). */
  byAction: ReadonlyMap<string, readonly RouteTarget[]>;
  unroutedQueue: string;
  /** Every queue a message may go to (to create them up front). */
  queues: readonly string[];
}

export function compileRoutes(routes: readonly EngageRoute[], unroutedQueue: string): RouteTable {
  const byAction = new Map<string, RouteTarget[]>();
  for (const r of routes) {
    const target: RouteTarget = { queue: r.queue, format: r.format, ...(r.resourceIds ? { resourceIds: new Set(r.resourceIds) } : {}) };
    for (const t of new Set(r.eventTypes)) {
      const list = byAction.get(t) ?? [];
      list.push(target);
      byAction.set(t, list);
    }
  }
  const queues = [...new Set([...routes.map((r) => r.queue), unroutedQueue])];
  return { byAction, unroutedQueue, queues };
}

export type RouteDecision = {
  queue: string;
  format: 'cloudevents' | 'raw' | undefined;
  reason: 'route' | 'filter-match' | 'filter-unjudged' | 'unrouted';
};

/**
 * Where one notification goes. `resourceIds` are the ids found in its payload (`undefined` when the
 * payload could not be read). A filtered route keeps a notification if any of its resources is listed,
 * and also keeps one whose resources cannot be read (`filter-unjudged`: never drop what cannot be judged).
 */
export function routeNotification(table: RouteTable, action: string, resourceIds: readonly string[] | undefined): RouteDecision[] {
  const targets = table.byAction.get(action.toUpperCase());
  if (!targets || targets.length === 0) return [{ queue: table.unroutedQueue, format: undefined, reason: 'unrouted' }];
  const out: RouteDecision[] = [];
  for (const t of targets) {
    if (!t.resourceIds) {
      out.push({ queue: t.queue, format: t.format, reason: 'route' });
    } else if (!resourceIds || resourceIds.length === 0) {
      out.push({ queue: t.queue, format: t.format, reason: 'filter-unjudged' });
    } else if (resourceIds.some((id) => t.resourceIds!.has(id))) {
      out.push({ queue: t.queue, format: t.format, reason: 'filter-match' });
    }
  }
  return out;
}

const RESOURCE_KEYS = new Set(['resourceitemid', 'resourceid']);

/**
 * Resource ids found in a decoded payload (`ResourceItemID` / `ResourceItemId` / `ResourceId`, at any
 * depth, in document order, unique), as strings. `undefined` when the payload is not structured
 * (e.g. the encrypted string of decoder `none`) or names no resource.
 */
export function findResourceIds(payload: unknown): string[] | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const found: string[] = [];
  const seen = new Set<string>();
  const stack: unknown[] = [payload];
  let budget = 10_000; // bounded walk, whatever the payload
  // Depth first in document order: children are pushed last-first (no spread: arrays may be huge).
  while (stack.length > 0 && budget-- > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push(node[i]);
    } else if (typeof node === 'object' && node !== null) {
      const children: unknown[] = [];
      for (const [k, v] of Object.entries(node)) {
        if (RESOURCE_KEYS.has(k.toLowerCase()) && (typeof v === 'number' || (typeof v === 'string' && v !== ''))) {
          const id = String(v);
          if (!seen.has(id)) {
            seen.add(id);
            found.push(id);
          }
        } else if (typeof v === 'object' && v !== null) {
          children.push(v);
        }
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    }
  }
  return found.length > 0 ? found : undefined;
}
