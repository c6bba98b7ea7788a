/** `engage-bridge status`: queue, poison and dead-letter depths, v2 drain backlog, Noojee cursor, last runs. */
import type { Command } from 'commander';
import { cliContext, processIo, type CliIo } from './settings';

export function registerStatusCommand(program: Command, io: CliIo = processIo): void {
  program
    .command('status')
    .description('Queue depths, poison depths, dead-letter count, Notification API drain backlog, Noojee cursor, last runs')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { collectStatus, formatStatus } = await import('../shared/status/collect');
      const ctx = await cliContext(io.cwd(), io.env());
      const report = await collectStatus(
        ctx.storage,
        { checkpoint: ctx.config.CHECKPOINT_CONTAINER, journal: ctx.config.JOURNAL_CONTAINER },
        ctx.config.DEADLETTER_QUEUE,
      );
      if (opts.json) return io.out(`${JSON.stringify({ settingsFile: ctx.settings.file ?? null, ...report }, null, 2)}\n`);
      io.out(`${ctx.settings.file ? `Settings: ${ctx.settings.file}\n` : ''}${formatStatus(report)}`);
    });
}
