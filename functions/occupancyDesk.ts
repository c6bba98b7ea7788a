import { defineLazyConsumer } from '../shared/consumer/define';

/** Occupancy example consumer: desk booking changes (Engage DESK); the typed consumer is loaded on the first message. */
export const occupancyDesk = defineLazyConsumer('occupancyDesk', {
  queueName: '%OCCUPANCY_DESK_QUEUE%',
  load: async () => (await import('../examples/occupancy/consumer')).occupancyConsumer,
});
