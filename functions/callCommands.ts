import { app, type InvocationContext } from '@azure/functions';

/** Queue trigger on NOOJEE_COMMANDS_QUEUE: executes `{action: answer|hangup|dial, ...}` against Noojee. */
export async function callCommands(queueEntry: unknown, context: InvocationContext): Promise<void> {
  await (await import('../shared/noojee/commands')).handleCallCommand(queueEntry, context);
}

app.storageQueue('callCommands', {
  queueName: '%NOOJEE_COMMANDS_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: callCommands,
});
