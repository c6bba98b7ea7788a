import { defineLazyConsumer } from '../shared/consumer/define';

/** Occupancy example consumer: room START / STOP / EXTEND (Engage MEETINGPROGRESSION); the typed consumer is loaded on the first message. */
export const occupancyMeetingProgression = defineLazyConsumer('occupancyMeetingProgression', {
  queueName: '%OCCUPANCY_MEETING_PROGRESSION_QUEUE%',
  load: async () => (await import('../examples/occupancy/consumer')).occupancyConsumer,
});
