import { settingOr, type TimerFunctionDefinition } from '../shared/definition';
import { DEFAULT_NOOJEE_SCHEDULE } from '../shared/noojee/defaults';

/**
 * Timer (NOOJEE_SCHEDULE, default every minute): long-polls Noojee call events for NOOJEE_RUN_SECONDS
 * and enqueues one message per CallData to NOOJEE_EVENTS_QUEUE; a no-op when Noojee is not configured.
 */
export const callEvents: TimerFunctionDefinition = {
  name: 'callEvents',
  trigger: {
    kind: 'timer',
    // Read when the host registers the function, so the setting's default applies when it is unset.
    get schedule() {
      return settingOr('NOOJEE_SCHEDULE', DEFAULT_NOOJEE_SCHEDULE);
    },
  },
  handler: async (_timer, context) => {
    await (await import('../shared/noojee/callEvents')).runCallEvents(context);
  },
};
