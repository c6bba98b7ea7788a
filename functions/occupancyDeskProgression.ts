import { defineLazyConsumer } from '../shared/consumer/define';

/** Occupancy example consumer: desk START / STOP / EXTEND (Engage DESKPROGRESSION); the typed consumer is loaded on the first message. */
export const occupancyDeskProgression = defineLazyConsumer('occupancyDeskProgression', {
  queueName: '%OCCUPANCY_DESK_PROGRESSION_QUEUE%',
  load: async () => (await import('../examples/occupancy/consumer')).occupancyConsumer,
});
