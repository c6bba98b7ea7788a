import type { TimerFunctionDefinition } from '../shared/definition';
import { drainRunsOnStartup, drainSchedule } from '../shared/notifications/defaults';

/**
 * Timer: drains the Notification API (v2 events) into NOTIFICATIONS_QUEUE. Schedule from
 * NOTIFICATIONS_SCHEDULE (default every minute), read when the host registers the function.
 * A no-op with one log line while NOTIFICATIONS_API_BASE_URL is not set.
 */
export const notificationsDrain: TimerFunctionDefinition = {
  name: 'notificationsDrain',
  trigger: {
    kind: 'timer',
    get schedule() {
      return drainSchedule();
    },
    get runOnStartup() {
      return drainRunsOnStartup();
    },
  },
  handler: async (_timer, context) => {
    await (await import('../shared/notifications/run')).runNotificationsDrain(context);
  },
};
