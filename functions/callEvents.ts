import { app, type InvocationContext, type Timer } from '@azure/functions';

/**
 * Timer (NOOJEE_SCHEDULE, every minute in the shipped settings): long-polls Noojee call events for
 * NOOJEE_RUN_SECONDS and enqueues one message per CallData to NOOJEE_EVENTS_QUEUE; a no-op when
 * Noojee is not configured.
 */
export async function callEvents(_timer: Timer, context: InvocationContext): Promise<void> {
  await (await import('../shared/noojee/callEvents')).runCallEvents(context);
}

app.timer('callEvents', {
  schedule: '%NOOJEE_SCHEDULE%',
  handler: callEvents,
});
