import type { Command } from 'commander';

/** Placeholder until this command group is built (see its issue). */
export function registerSubscriptionCommands(_program: Command): void {}
