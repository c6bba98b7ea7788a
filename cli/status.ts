import type { Command } from 'commander';

/** Placeholder until this command group is built (see its issue). */
export function registerStatusCommand(_program: Command): void {}
