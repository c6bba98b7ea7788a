import { defineLazyConsumer, settingOr } from '../shared/consumer/define';

/** Occupancy example consumer: room START / STOP / EXTEND (Engage MEETINGPROGRESSION). */
export const occupancyMeetingProgression = defineLazyConsumer({
  name: 'occupancyMeetingProgression',
  queue: settingOr('OCCUPANCY_MEETING_PROGRESSION_QUEUE', 'engage-meetingprogression'),
  load: async () => (await import('../shared/occupancy/consumer')).occupancyConsumer,
});
