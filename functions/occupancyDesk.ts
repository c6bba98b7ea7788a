import { defineLazyConsumer, settingOr } from '../shared/consumer/define';

/** Occupancy example consumer: desk booking changes (Engage DESK). */
export const occupancyDesk = defineLazyConsumer({
  name: 'occupancyDesk',
  queue: settingOr('OCCUPANCY_DESK_QUEUE', 'engage-desk'),
  load: async () => (await import('../shared/occupancy/consumer')).occupancyConsumer,
});
