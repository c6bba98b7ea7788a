import { app } from '@azure/functions';
import { lazyConsumerHandler } from '../shared/consumer/define';

/** Occupancy example consumer: desk booking changes (Engage DESK); the typed consumer is loaded on the first message. */
export const occupancyDesk = lazyConsumerHandler(async () => (await import('../shared/occupancy/consumer')).occupancyConsumer);

app.storageQueue('occupancyDesk', {
  queueName: '%OCCUPANCY_DESK_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: occupancyDesk,
});
