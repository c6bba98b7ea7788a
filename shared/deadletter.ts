/**
 * The dead-letter queue (DEADLETTER_QUEUE, default `engage-deadletter`): what the bridge received but
 * could not decode or validate is kept there, untouched, with the reason, instead of being rejected
 * (the sender would retry and then drop it) or skipped. Messages never expire; inspect them with any
 * queue tool, fix the cause, and re-submit. One CloudEvent per entry, `type` DEADLETTER_EVENT_TYPE.
 */
import { z } from 'zod';
import { cloudEvent, type CloudEvent } from './envelope';

export const DEADLETTER_EVENT_TYPE = 'com.engage-bridge.deadletter';
export const DEFAULT_DEADLETTER_QUEUE = 'engage-deadletter';

export const deadLetterDataSchema = z
  .object({
    /** Why it was not enqueued to its route, e.g. `DynamicParamA is not base64 (ENGAGE_DECODER=base64-json)`. */
    reason: z.string().describe('Why the entry could not be decoded or validated'),
    /** Which input it came from. */
    origin: z.enum(['engage-webhook', 'noojee-subscribe', 'notifications-drain']).describe('The input the entry arrived on'),
    /** Where in that input: envelope Id / Attempt / index, or Noojee seq / extension / index. */
    location: z.record(z.string(), z.union([z.string(), z.number()])).describe('Where the entry was in what arrived'),
    /** The entry exactly as received (for a v2 notification over the limits: its top-level scalar fields only). */
    received: z.unknown().describe('The entry exactly as received (a notification over the drain limits: its top-level scalar fields)'),
  })
  .describe('An entry the bridge received but could not decode or validate, kept with the reason');

export type DeadLetterData = z.infer<typeof deadLetterDataSchema>;

/** The dead-letter message of one entry (deterministic `id`: a redelivery carries the same one). */
export function deadLetterEvent(e: { id: string; source: string; data: DeadLetterData; time?: string }): CloudEvent<DeadLetterData> {
  return cloudEvent({ id: e.id, source: e.source, type: DEADLETTER_EVENT_TYPE, data: e.data, ...(e.time ? { time: e.time } : {}) });
}
