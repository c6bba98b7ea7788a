import { app } from '@azure/functions';
import { lazyConsumerHandler } from '../shared/consumer/define';

/** Occupancy example consumer: desk START / STOP / EXTEND (Engage DESKPROGRESSION); the typed consumer is loaded on the first message. */
export const occupancyDeskProgression = lazyConsumerHandler(async () => (await import('../shared/occupancy/consumer')).occupancyConsumer);

app.storageQueue('occupancyDeskProgression', {
  queueName: '%OCCUPANCY_DESK_PROGRESSION_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: occupancyDeskProgression,
});
