import { z } from 'zod';
import { containerName, intSetting, queueName } from './core';

/**
 * Settings of the consumer part: the example occupancy consumer and the poison monitor.
 *
 * The trigger settings (`OCCUPANCY_*_QUEUE`, `POISON_MONITOR_SCHEDULE`) are `%SETTING%` expressions
 * in the function files, resolved by the Functions host: local.settings.sample.json and
 * infra/main.bicep set them (an unset one fails indexing of its function). They are validated here
 * too, so a bad value fails clearly; the defaults are the shipped values.
 */
export const consumerSettings = z.object({
  /** Blob container holding one occupancy document per resource (`resources/<id>.json`). */
  OCCUPANCY_CONTAINER: containerName('occupancy').meta({ description: 'occupancy example: one document per resource' }),
  /** Queue the occupancy consumer reads MEETINGPROGRESSION events from. */
  OCCUPANCY_MEETING_PROGRESSION_QUEUE: queueName()
    .default('engage-meetingprogression')
    .meta({ description: 'Queue the occupancy consumer reads MEETINGPROGRESSION events from.' }),
  /** Queue the occupancy consumer reads DESKPROGRESSION events from. */
  OCCUPANCY_DESK_PROGRESSION_QUEUE: queueName()
    .default('engage-deskprogression')
    .meta({ description: 'Queue the occupancy consumer reads DESKPROGRESSION events from.' }),
  /** Queue the occupancy consumer reads MEETINGEXTERNAL (room booking changes) from. */
  OCCUPANCY_MEETING_EXTERNAL_QUEUE: queueName()
    .default('engage-meetingexternal')
    .meta({ description: 'Queue the occupancy consumer reads MEETINGEXTERNAL (room booking changes) from.' }),
  /** Queue the occupancy consumer reads DESK (desk booking changes) from. */
  OCCUPANCY_DESK_QUEUE: queueName()
    .default('engage-desk')
    .meta({ description: 'Queue the occupancy consumer reads DESK (desk booking changes) from.' }),
  /**
   * History kept per resource, in hours of event time: bookings whose last event is older than the
   * newest event minus this window are dropped, and events older than that window are ignored
   * (a START without its STOP therefore expires after this long).
   */
  OCCUPANCY_HISTORY_HOURS: intSetting(48, 1, 24 * 366).meta({ description: 'occupancy example: history kept per resource' }),
  /** Poison monitor schedule (NCRONTAB, six fields). Default: every 5 minutes. */
  POISON_MONITOR_SCHEDULE: z
    .string()
    .regex(/^\S+( \S+){5}$/, 'must be an NCRONTAB expression with six fields ({second} {minute} {hour} {day} {month} {day-of-week})')
    .default('0 */5 * * * *')
    .meta({ description: 'timer (`%POISON_MONITOR_SCHEDULE%`) of the poison-queue monitor' }),
});

/** Names of the settings above whose values are secrets. */
export const consumerSecrets: readonly string[] = [];
