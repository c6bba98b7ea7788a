/**
 * `engage-bridge poison list|show|replay|purge`: inspect and recover messages the Functions host
 * moved to `<queue>-poison` after maxDequeueCount failures. `--queue` takes the queue or its
 * poison queue name.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { cliContext, positiveInt, processIo, requireKnownQueue, type CliIo } from './settings';

export function registerPoisonCommands(program: Command, io: CliIo = processIo): void {
  const poison = program.command('poison').description('Poison queues: list, inspect, replay to their queue, purge');
  const queues = async () => (await cliContext(io.cwd(), io.env())).storage.queues;

  poison
    .command('list')
    .description('List every *-poison queue with its depth')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { listPoisonQueues } = await import('../shared/poison/queues');
      const list = await listPoisonQueues(await queues());
      if (opts.json) return io.out(`${JSON.stringify(list, null, 2)}\n`);
      if (list.length === 0) return io.out('No poison queues.\n');
      const width = Math.max(...list.map((q) => q.name.length)) + 2;
      io.out(list.map((q) => `${q.name.padEnd(width)}${q.depth}\n`).join(''));
    });

  poison
    .command('show')
    .description('Show the first messages of a poison queue (at most 32, unchanged)')
    .requiredOption('--queue <queue>', 'queue (or its -poison queue) name', queueArg)
    .option('--max <n>', 'messages to show (1-32)', positiveInt, 10)
    .option('--json', 'print JSON')
    .action(async (opts: { queue: string; max: number; json?: boolean }) => {
      const { peekPoison } = await import('../shared/poison/queues');
      const client = await queues();
      await requireKnownQueue(client, opts.queue);
      const res = await peekPoison(client, opts.queue, opts.max);
      if (opts.json) return io.out(`${JSON.stringify(res, null, 2)}\n`);
      io.out(`${res.pair.poison}: ${res.depth} message(s)${res.depth > res.messages.length ? `, showing ${res.messages.length}` : ''}\n`);
      for (const m of res.messages) {
        io.out(`\n${m.messageId}  inserted ${m.insertedOn ?? '?'}  ${m.summary}\n${JSON.stringify(m.body, null, 2)}\n`);
      }
    });

  poison
    .command('replay')
    .description('Move poison messages back to their queue (unchanged) so they are processed again')
    .requiredOption('--queue <queue>', 'queue (or its -poison queue) name', queueArg)
    .option('--max <n>', 'replay at most n messages (default: all there are now)', positiveInt)
    .option('--dry-run', 'show what would be replayed, change nothing')
    .action(async (opts: { queue: string; max?: number; dryRun?: boolean }) => {
      const { replayPoison } = await import('../shared/poison/queues');
      const ctx = await cliContext(io.cwd(), io.env());
      await requireKnownQueue(ctx.storage.queues, opts.queue);
      const res = await replayPoison(ctx.storage.queues, {
        queue: opts.queue,
        messageTimeToLive: ctx.config.QUEUE_MESSAGE_TTL_SECONDS,
        max: opts.max,
        dryRun: opts.dryRun,
        onProgress: (done, total, m) => io.out(`replayed ${done}/${total} ${m.messageId} ${m.summary}\n`),
      });
      if (res.dryRun) {
        io.out(`dry run: would replay ${res.replayed} message(s) from ${res.pair.poison} to ${res.pair.source}\n`);
        for (const m of res.preview ?? []) io.out(`  ${m.messageId} ${m.summary}\n`);
        if ((res.preview?.length ?? 0) < res.replayed) io.out(`  ... (only the first ${res.preview?.length ?? 0} can be previewed)\n`);
        return;
      }
      io.out(
        `replayed ${res.replayed} message(s) from ${res.pair.poison} to ${res.pair.source}; ${res.remaining} left in ${res.pair.poison}\n`,
      );
    });

  poison
    .command('purge')
    .description('Delete every message of a poison queue (asks for --yes)')
    .requiredOption('--queue <queue>', 'queue (or its -poison queue) name', queueArg)
    .option('--yes', 'really delete the messages')
    .action(async (opts: { queue: string; yes?: boolean }) => {
      const { peekPoison, purgePoison } = await import('../shared/poison/queues');
      const client = await queues();
      await requireKnownQueue(client, opts.queue);
      if (!opts.yes) {
        const { pair, depth } = await peekPoison(client, opts.queue, 1);
        throw new Error(`refusing to delete ${depth} message(s) from ${pair.poison} without --yes`);
      }
      const res = await purgePoison(client, opts.queue);
      io.out(`purged ${res.purged} message(s) from ${res.pair.poison}\n`);
    });
}

function queueArg(value: string): string {
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(value))
    throw new InvalidArgumentError('must be a queue name (lower-case letters, digits, dashes)');
  return value;
}
