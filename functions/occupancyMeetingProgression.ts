import { app } from '@azure/functions';
import { lazyConsumerHandler } from '../shared/consumer/define';

/** Occupancy example consumer: room START / STOP / EXTEND (Engage MEETINGPROGRESSION); the typed consumer is loaded on the first message. */
export const occupancyMeetingProgression = lazyConsumerHandler(async () => (await import('../shared/occupancy/consumer')).occupancyConsumer);

app.storageQueue('occupancyMeetingProgression', {
  queueName: '%OCCUPANCY_MEETING_PROGRESSION_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: occupancyMeetingProgression,
});
