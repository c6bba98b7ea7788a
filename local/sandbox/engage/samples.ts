/** Realistic decoded payloads per event type (shapes from "Notification messages overview", UPSTREAM-RESEARCH.md §2). */
import type { EventTypeName } from '../../../shared/engage/events';

const RESOURCES = [96, 101, 102, 205, 310];
let counter = 0;

function pick<T>(items: readonly T[]): T {
  return items[counter++ % items.length];
}

function localDate(offsetDays = 0): string {
  const d = new Date(Date.now() + offsetDays * 86_400_000);
  return `${d.toISOString().slice(0, 10)}T00:00:00`;
}

function localDateTime(): string {
  return new Date().toISOString().slice(0, 19);
}

export function samplePayload(type: EventTypeName, resourceItemId: number = pick(RESOURCES)): unknown {
  const bookingId = 1000 + (counter++ % 9000);
  switch (type) {
    case 'MEETINGEXTERNAL':
      return { [localDate()]: { ChangedItems: [{ Action: 1, BookingID: bookingId, ResourceItemID: resourceItemId }] } };
    case 'MEETINGPROGRESSION':
      return [
        {
          BookingId: bookingId,
          ResourceItemId: resourceItemId,
          UpdatedTime: localDateTime(),
          MeetingProgressionAction: counter % 3,
          ActionSource: 1,
        },
      ];
    case 'DESK':
      return [{ Date: localDate(1), BookingID: bookingId, ResourceItemID: resourceItemId, Action: 1, UntilFurtherNotice: false }];
    case 'DESKPROGRESSION':
      return [
        {
          BookingId: bookingId,
          ResourceItemId: resourceItemId,
          UpdateTime: localDateTime(),
          DeskProgressionAction: counter % 3,
          ActionSource: 0,
        },
      ];
    case 'MEETING':
      return [{ BookingID: bookingId, ResourceItemID: resourceItemId, Action: 1 }];
    case 'IPPHONE':
      return [{ ResourceItemID: resourceItemId, Extension: `${4000 + resourceItemId}`, Action: 1 }];
    case 'RESOURCE':
      return [{ ResourceItemID: resourceItemId, ResourceType: resourceItemId % 2 === 0 ? 'Desk' : 'Room', Action: 1 }];
    case 'VISITOR':
      return [{ VisitorID: 500 + (counter % 100), BookingID: bookingId, Status: 'Arrived', Action: 1 }];
  }
}
