import { app } from '@azure/functions';
import { lazyConsumerHandler } from '../shared/consumer/define';

/** Occupancy example consumer: room booking changes (Engage MEETINGEXTERNAL); the typed consumer is loaded on the first message. */
export const occupancyMeetingExternal = lazyConsumerHandler(async () => (await import('../shared/occupancy/consumer')).occupancyConsumer);

app.storageQueue('occupancyMeetingExternal', {
  queueName: '%OCCUPANCY_MEETING_EXTERNAL_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: occupancyMeetingExternal,
});
