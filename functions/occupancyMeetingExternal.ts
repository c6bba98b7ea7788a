import { defineLazyConsumer, settingOr } from '../shared/consumer/define';

/** Occupancy example consumer: room booking changes (Engage MEETINGEXTERNAL). */
export const occupancyMeetingExternal = defineLazyConsumer({
  name: 'occupancyMeetingExternal',
  queue: settingOr('OCCUPANCY_MEETING_EXTERNAL_QUEUE', 'engage-meetingexternal'),
  load: async () => (await import('../shared/occupancy/consumer')).occupancyConsumer,
});
