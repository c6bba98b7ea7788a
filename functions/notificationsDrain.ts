import { app, type InvocationContext, type Timer } from '@azure/functions';
import { drainRunsOnStartup } from '../shared/notificationApiV2/defaults';

/**
 * Timer (NOTIFICATIONS_SCHEDULE, every minute in the shipped settings): drains the Notification API
 * (v2 events) into NOTIFICATIONS_QUEUE. A no-op with one log line while NOTIFICATIONS_API_BASE_URL
 * is not set.
 */
export async function notificationsDrain(_timer: Timer, context: InvocationContext): Promise<void> {
  await (await import('../shared/notificationApiV2/run')).runNotificationsDrain(context);
}

app.timer('notificationsDrain', {
  schedule: '%NOTIFICATIONS_SCHEDULE%',
  // A boolean, so not a %SETTING% expression: read from the app setting when the app is indexed.
  runOnStartup: drainRunsOnStartup(),
  handler: notificationsDrain,
});
