/**
 * Eptura Engage (Condeco) notification vocabulary: event types (listener API numbers and the
 * `Action` names the pusher sends), queue providers, and the decoded payload schemas documented
 * in "Notification messages overview" (UPSTREAM-RESEARCH.md §2).
 */
import { z } from 'zod';

/** Event types: listener API number ↔ pusher `Action` name. */
export const EVENT_TYPES = {
  MEETING: 1,
  DESK: 2,
  MEETINGEXTERNAL: 3,
  IPPHONE: 4,
  MEETINGPROGRESSION: 5,
  DESKPROGRESSION: 6,
  RESOURCE: 7,
  VISITOR: 8,
} as const;

export type EventTypeName = keyof typeof EVENT_TYPES;
export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as EventTypeName[];

export function eventTypeName(n: number): EventTypeName | undefined {
  return EVENT_TYPE_NAMES.find((k) => EVENT_TYPES[k] === n);
}

/** Queue providers of the listener API. */
export const QUEUE_PROVIDERS = {
  PUBLISHNOTIFICATION: 2,
  AZUREQUEUE: 3,
  AZUREQUEUEFILTERED: 4,
} as const;

export const ENGAGE_EVENT_TYPE_PREFIX = 'com.eptura.engage.';

/** CloudEvents `type` of an Engage notification, e.g. `com.eptura.engage.deskprogression`. */
export function engageEventType(action: string): string {
  return `${ENGAGE_EVENT_TYPE_PREFIX}${action.toLowerCase()}`;
}

const dateTime = z.string(); // Condeco sends local date-times without offset ("2019-08-28T00:00:00")

/** MEETINGEXTERNAL: `{"<date>": {"ChangedItems": [{Action 0=deleted 1=new/updated, BookingID, ResourceItemID}]}}` */
export const meetingExternalPayload = z
  .record(
    dateTime,
    z.looseObject({
      ChangedItems: z.array(z.looseObject({ Action: z.number().int(), BookingID: z.number().int(), ResourceItemID: z.number().int() })),
    }),
  )
  .describe('MEETINGEXTERNAL: per booking date, the changed items (Action 0 deleted, 1 new/updated).');

/** MEETINGPROGRESSION: MeetingProgressionAction 0 START, 1 STOP, 2 EXTEND; ActionSource 0 WEB, 1 external. Note `UpdatedTime`. */
export const meetingProgressionPayload = z
  .array(
    z.looseObject({
      BookingId: z.number().int(),
      ResourceItemId: z.number().int(),
      UpdatedTime: dateTime,
      MeetingProgressionAction: z.number().int(),
      ActionSource: z.number().int(),
    }),
  )
  .describe(
    'MEETINGPROGRESSION: MeetingProgressionAction 0 START, 1 STOP, 2 EXTEND; ActionSource 0 web, 1 external; UpdatedTime local, without offset.',
  );

/** DESK: Action 0 deleted, 1 new/updated. */
export const deskPayload = z
  .array(
    z.looseObject({
      Date: dateTime,
      BookingID: z.number().int(),
      ResourceItemID: z.number().int(),
      Action: z.number().int(),
      UntilFurtherNotice: z.boolean(),
    }),
  )
  .describe('DESK: desk booking changes (Action 0 deleted, 1 new/updated); Date local, without offset.');

/** DESKPROGRESSION: DeskProgressionAction 0 START, 1 STOP, 2 EXTEND. Note `UpdateTime` (not `UpdatedTime`). */
export const deskProgressionPayload = z
  .array(
    z.looseObject({
      BookingId: z.number().int(),
      ResourceItemId: z.number().int(),
      UpdateTime: dateTime,
      DeskProgressionAction: z.number().int(),
      ActionSource: z.number().int(),
    }),
  )
  .describe(
    'DESKPROGRESSION: DeskProgressionAction 0 START, 1 STOP, 2 EXTEND; ActionSource 0 web, 1 external; UpdateTime (not UpdatedTime) local, without offset.',
  );

/** Payload schema per Action; lenient (any JSON) for types whose shape is not documented. */
export const payloadSchemas: Record<EventTypeName, z.ZodType> = {
  MEETING: z.unknown(),
  DESK: deskPayload,
  MEETINGEXTERNAL: meetingExternalPayload,
  IPPHONE: z.unknown(),
  MEETINGPROGRESSION: meetingProgressionPayload,
  DESKPROGRESSION: deskProgressionPayload,
  RESOURCE: z.unknown(),
  VISITOR: z.unknown(),
};

export type MeetingExternalPayload = z.infer<typeof meetingExternalPayload>;
export type MeetingProgressionPayload = z.infer<typeof meetingProgressionPayload>;
export type DeskPayload = z.infer<typeof deskPayload>;
export type DeskProgressionPayload = z.infer<typeof deskProgressionPayload>;

/** Progression actions (meeting and desk). */
export const PROGRESSION_ACTIONS = { START: 0, STOP: 1, EXTEND: 2 } as const;
