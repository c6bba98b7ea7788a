import { defineLazyConsumer } from '../shared/consumer/define';

/** Occupancy example consumer: room booking changes (Engage MEETINGEXTERNAL); the typed consumer is loaded on the first message. */
export const occupancyMeetingExternal = defineLazyConsumer('occupancyMeetingExternal', {
  queueName: '%OCCUPANCY_MEETING_EXTERNAL_QUEUE%',
  load: async () => (await import('../examples/occupancy/consumer')).occupancyConsumer,
});
