#!/usr/bin/env node
/**
 * `engage-bridge`: manage Engage listeners, v2 subscriptions, poison queues; show status.
 * Each command group lives in its own module and registers itself on the program.
 * Exit code: 0 on success, 1 on failure (message on stderr, secrets never printed).
 */
import { Command } from 'commander';
import { version } from '../shared/version';
import { registerListenerCommands } from './listeners';
import { registerSubscriptionCommands } from './subscriptions';
import { registerPoisonCommands } from './poison';
import { registerStatusCommand } from './status';
import { cliRedactor } from './settings';

export function buildProgram(): Command {
  const program = new Command('engage-bridge')
    .description('Manage engage-bridge: Engage listeners, Notification API subscriptions, poison queues, status')
    .version(version)
    .showHelpAfterError();
  registerListenerCommands(program);
  registerSubscriptionCommands(program);
  registerPoisonCommands(program);
  registerStatusCommand(program);
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`error: ${cliRedactor().text(err instanceof Error ? err.message : String(err))}\n`);
      process.exitCode = 1;
    });
}
