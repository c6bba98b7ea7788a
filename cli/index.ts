#!/usr/bin/env node
/**
 * `engage-bridge`: manage Engage listeners, v2 subscriptions, poison queues, the event archive; show status.
 * Each command group lives in its own module and registers itself on the program.
 * Exit code: 0 on success, 1 on failure (message on stderr, secrets never printed).
 */
import { Command } from 'commander';
import { version } from '../shared/version';
import { registerListenerCommands } from './listeners';
import { registerSubscriptionCommands } from './subscriptions';
import { registerNotificationCommands } from './notifications';
import { registerPoisonCommands } from './poison';
import { registerStatusCommand } from './status';
import { registerQueueCommands } from './queue';
import { registerArchiveCommands } from './archive';
import { cliRedactor, isUnreachable, lastStorageEndpoint } from './settings';

/** The error line for a failure: storage that does not answer says where we looked and what to do. */
export function describeFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const endpoint = lastStorageEndpoint();
  if (endpoint && isUnreachable(err)) {
    return (
      `storage did not answer at ${endpoint.url} (${endpoint.source}): ${message}\n` +
      'Is it running? `npm start` starts Azurite on 127.0.0.1:10000/10001 (run it in another terminal first); ' +
      'otherwise point AzureWebJobsStorage (environment or local.settings.json) at your storage account.'
    );
  }
  return message;
}

export function buildProgram(): Command {
  const program = new Command('engage-bridge')
    .description('Manage engage-bridge: Engage listeners, Notification API subscriptions, poison queues, status')
    .version(version)
    .showHelpAfterError();
  registerListenerCommands(program);
  registerSubscriptionCommands(program);
  registerNotificationCommands(program);
  registerPoisonCommands(program);
  registerStatusCommand(program);
  registerQueueCommands(program);
  registerArchiveCommands(program);
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`error: ${cliRedactor().text(describeFailure(err))}\n`);
      process.exitCode = 1;
    });
}
