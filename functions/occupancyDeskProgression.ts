import { defineLazyConsumer, settingOr } from '../shared/consumer/define';

/** Occupancy example consumer: desk START / STOP / EXTEND (Engage DESKPROGRESSION). */
export const occupancyDeskProgression = defineLazyConsumer({
  name: 'occupancyDeskProgression',
  queue: settingOr('OCCUPANCY_DESK_PROGRESSION_QUEUE', 'engage-deskprogression'),
  load: async () => (await import('../shared/occupancy/consumer')).occupancyConsumer,
});
