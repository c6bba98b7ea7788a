/**
 * The example consumer: live room / desk occupancy from Engage MEETINGPROGRESSION / DESKPROGRESSION
 * (start / stop / extend) and booking changes (DESK, MEETINGEXTERNAL), kept per resource in blob
 * storage. Loaded on the first message by the occupancy queue triggers (functions/occupancy*.ts).
 */
import type { InvocationContext } from '@azure/functions';
import { getConfig } from '../../shared/config/settings';
import { consumerSpec, type ConsumerEvent } from '../../shared/consumer/define';
import { deskPayload, deskProgressionPayload, meetingExternalPayload, meetingProgressionPayload } from '../../shared/engage/events';
import { getStorage } from '../../shared/storage';
import {
  deskBookingChanges,
  deskProgressionChanges,
  meetingBookingChanges,
  meetingProgressionChanges,
  type OccupancyChange,
  type Skipped,
} from './model';
import { OccupancyStore, byResource } from './store';

/** Event types handled (as `engageEventType()` names them) and their payload schemas. */
export const OCCUPANCY_TYPES = {
  meetingProgression: 'com.eptura.engage.meetingprogression',
  deskProgression: 'com.eptura.engage.deskprogression',
  meetingExternal: 'com.eptura.engage.meetingexternal',
  desk: 'com.eptura.engage.desk',
} as const;

export const occupancySchemas = {
  [OCCUPANCY_TYPES.meetingProgression]: meetingProgressionPayload,
  [OCCUPANCY_TYPES.deskProgression]: deskProgressionPayload,
  [OCCUPANCY_TYPES.meetingExternal]: meetingExternalPayload,
  [OCCUPANCY_TYPES.desk]: deskPayload,
};

type OccupancyEvent = ConsumerEvent<typeof occupancySchemas>;

/** The per-resource changes an event carries (and the items it had to skip, e.g. unknown actions). */
export function occupancyChanges(event: OccupancyEvent): { changes: OccupancyChange[]; skipped: Skipped[] } {
  const skipped: Skipped[] = [];
  const ref = { id: event.id, time: event.time };
  let changes: OccupancyChange[];
  switch (event.type) {
    case OCCUPANCY_TYPES.meetingProgression:
      changes = meetingProgressionChanges(ref, event.data, skipped);
      break;
    case OCCUPANCY_TYPES.deskProgression:
      changes = deskProgressionChanges(ref, event.data, skipped);
      break;
    case OCCUPANCY_TYPES.meetingExternal:
      changes = meetingBookingChanges(ref, event.data, skipped);
      break;
    case OCCUPANCY_TYPES.desk:
      changes = deskBookingChanges(ref, event.data, skipped);
      break;
    default:
      changes = [];
  }
  return { changes, skipped };
}

let store: { key: string; store: Promise<OccupancyStore> } | undefined;

/** The store for the current settings (cached; rebuilt when the settings object changes). */
export function occupancyStore(): Promise<OccupancyStore> {
  const config = getConfig();
  const key = `${config.OCCUPANCY_CONTAINER}|${config.OCCUPANCY_HISTORY_HOURS}|${process.env.AzureWebJobsStorage ?? ''}`;
  if (!store || store.key !== key) {
    const created = getStorage().then(
      (storage) =>
        new OccupancyStore(storage, { container: config.OCCUPANCY_CONTAINER, historyMs: config.OCCUPANCY_HISTORY_HOURS * 3_600_000 }),
    );
    created.catch(() => (store = undefined));
    store = { key, store: created };
  }
  return store.store;
}

export async function handleOccupancyEvent(event: OccupancyEvent, context: InvocationContext): Promise<void> {
  const { changes, skipped } = occupancyChanges(event);
  for (const s of skipped)
    context.warn(`occupancy: event ${event.id}: skipped booking ${s.bookingId} of resource ${s.resourceId}: ${s.reason}`);
  const target = await occupancyStore();
  for (const [resourceId, list] of byResource(changes)) {
    const result = await target.apply(resourceId, event.id, list);
    const stale = result.stale ? `, ${result.stale} change(s) older than the history window ignored` : '';
    context.log(`occupancy: event ${event.id} (${event.type}) resource ${resourceId}: ${result.changed ? 'updated' : 'unchanged'}${stale}`);
  }
}

export const occupancyConsumer = consumerSpec({
  schemas: occupancySchemas,
  handler: handleOccupancyEvent,
});
