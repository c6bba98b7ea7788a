import { settingOr } from '../shared/consumer/define';
import type { TimerFunctionDefinition } from '../shared/definition';

/** Timer: logs each `*-poison` queue's depth, with a `PoisonQueueDepth` metric line per queue for alerts. */
export const poisonMonitor: TimerFunctionDefinition = {
  name: 'poisonMonitor',
  trigger: { kind: 'timer', schedule: settingOr('POISON_MONITOR_SCHEDULE', '0 */5 * * * *') },
  handler: async (_timer, ctx) => (await import('../shared/poison/monitor')).runPoisonMonitor(ctx),
};
