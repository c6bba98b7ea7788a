/**
 * Entry point Azure runs (`main` in package.json): registers every definition with the v4 `app`.
 * Kept cheap to load: function modules import their implementation lazily on first invocation.
 */
import { app } from '@azure/functions';
import type { FunctionDefinition } from '../shared/definition';
import { requestShutdown } from '../shared/shutdown';
import { definitions } from './registry';

export function register(defs: readonly FunctionDefinition[]): void {
  for (const def of defs) {
    const extraOutputs = def.extraOutputs;
    switch (def.trigger.kind) {
      case 'http':
        app.http(def.name, {
          route: def.trigger.route,
          methods: def.trigger.methods,
          authLevel: def.trigger.authLevel,
          extraOutputs,
          handler: (def as Extract<FunctionDefinition, { trigger: { kind: 'http' } }>).handler,
        });
        break;
      case 'timer':
        app.timer(def.name, {
          schedule: def.trigger.schedule,
          runOnStartup: def.trigger.runOnStartup ?? false,
          extraOutputs,
          handler: (def as Extract<FunctionDefinition, { trigger: { kind: 'timer' } }>).handler,
        });
        break;
      case 'storageQueue':
        app.storageQueue(def.name, {
          queueName: def.trigger.queueName,
          connection: def.trigger.connection,
          extraOutputs,
          handler: (def as Extract<FunctionDefinition, { trigger: { kind: 'storageQueue' } }>).handler,
        });
        break;
    }
  }
}

register(definitions);
// Let long-running invocations (Noojee long-poll, v2 drain) end cleanly when the worker stops.
app.hook.appTerminate(() => requestShutdown());
