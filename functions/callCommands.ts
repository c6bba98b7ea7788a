import { settingOr, STORAGE_CONNECTION, type QueueFunctionDefinition } from '../shared/definition';
import { DEFAULT_NOOJEE_COMMANDS_QUEUE } from '../shared/noojee/defaults';

/** Queue trigger on NOOJEE_COMMANDS_QUEUE: executes `{action: answer|hangup|dial, ...}` against Noojee. */
export const callCommands: QueueFunctionDefinition = {
  name: 'callCommands',
  trigger: {
    kind: 'storageQueue',
    // Read when the host registers the function, so the setting's default applies when it is unset.
    get queueName() {
      return settingOr('NOOJEE_COMMANDS_QUEUE', DEFAULT_NOOJEE_COMMANDS_QUEUE);
    },
    connection: STORAGE_CONNECTION,
  },
  handler: async (queueEntry, context) => {
    await (await import('../shared/noojee/commands')).handleCallCommand(queueEntry, context);
  },
};
