import { app, type InvocationContext, type Timer } from '@azure/functions';

/** Timer (POISON_MONITOR_SCHEDULE): logs each `*-poison` queue's depth, with a `PoisonQueueDepth` metric line per queue for alerts. */
export async function poisonMonitor(_timer: Timer, context: InvocationContext): Promise<void> {
  await (await import('../shared/poison/monitor')).runPoisonMonitor(context);
}

app.timer('poisonMonitor', {
  schedule: '%POISON_MONITOR_SCHEDULE%',
  handler: poisonMonitor,
});
