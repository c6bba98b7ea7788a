/**
 * `engage-bridge archive find|replay`: search the event archive (every message the bridge enqueued,
 * docs/archive.md) and re-enqueue a window of it to a queue with the original ids. Times: ISO 8601,
 * `now` or `now-<n>m|h|d`; the window is on when the bridge archived the message.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { cliContext, positiveInt, processIo, type CliIo } from './settings';
import type { ArchiveQuery } from '../shared/archive/find';
import { ARCHIVE_SOURCES, type ArchiveRecord, type ArchiveSource } from '../shared/archive/record';

interface FilterOptions {
  source?: ArchiveSource[];
  type?: string;
  subject?: string;
  id?: string;
  from?: string;
  to?: string;
}

function sourceArg(value: string, previous: ArchiveSource[] = []): ArchiveSource[] {
  if (!(ARCHIVE_SOURCES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${ARCHIVE_SOURCES.join(', ')}`);
  return [...previous, value as ArchiveSource];
}

function withFilters(c: Command, window?: { from: string; to: string }): Command {
  return c
    .option('--source <source>', `input that enqueued it (${ARCHIVE_SOURCES.join(', ')}); repeatable`, sourceArg)
    .option('--type <type>', 'CloudEvents type, e.g. com.eptura.engage.desk')
    .option('--subject <subject>', 'CloudEvents subject (resource id, extension)')
    .option('--id <id>', 'message id')
    .option('--from <time>', `window start (ISO 8601, now, now-<n>m|h|d; ${window ? `default ${window.from}` : 'required'})`)
    .option('--to <time>', `window end (${window ? `default ${window.to}` : 'required'})`);
}

async function toQuery(opts: FilterOptions, defaults: { from?: string; to?: string }): Promise<ArchiveQuery> {
  const { parseTime } = await import('../shared/archive/find');
  const now = new Date();
  const fromText = opts.from ?? defaults.from;
  const toText = opts.to ?? defaults.to;
  if (!fromText || !toText) throw new Error('replay needs a window: give --from and --to');
  const from = parseTime(fromText, now);
  const to = parseTime(toText, now);
  if (from.getTime() > to.getTime()) throw new Error(`--from (${from.toISOString()}) is after --to (${to.toISOString()})`);
  return {
    ...(opts.source ? { sources: opts.source } : {}),
    ...(opts.type !== undefined ? { type: opts.type } : {}),
    ...(opts.subject !== undefined ? { subject: opts.subject } : {}),
    ...(opts.id !== undefined ? { id: opts.id } : {}),
    from,
    to,
  };
}

function describe(r: ArchiveRecord): string {
  return `${r.archivedAt}  ${r.source}  ${r.type ?? '(raw)'}  ${r.subject ?? '-'}  ${r.id}  → ${r.queue}`;
}

/** Progress on a terminal only (stderr, rewritten in place). */
function progress(): (text: string) => void {
  if (!process.stderr.isTTY) return () => undefined;
  return (text) => process.stderr.write(`\r${text}\x1b[K`);
}

export function registerArchiveCommands(program: Command, io: CliIo = processIo): void {
  const archive = program.command('archive').description('Event archive: find archived messages, replay them to a queue');

  withFilters(archive.command('find').description('List archived messages matching the filters (streamed)'), {
    from: 'now-1h',
    to: 'now',
  })
    .option('--json', 'print each record as one JSON line')
    .action(async (opts: FilterOptions & { json?: boolean }) => {
      const { scanArchive } = await import('../shared/archive/find');
      const ctx = await cliContext(io.cwd(), io.env());
      const query = await toQuery(opts, { from: 'now-1h', to: 'now' });
      const container = ctx.storage.blobs.getContainerClient(ctx.config.ARCHIVE_CONTAINER);
      const show = progress();
      let records = 0;
      let blobs = 0;
      let unreadable = 0;
      for await (const item of scanArchive(container, query)) {
        if (item.kind === 'blobEnd') {
          blobs++;
          show(`read ${blobs} blob(s), ${records} record(s) found`);
        } else if (item.kind === 'unreadable') unreadable++;
        else {
          records++;
          io.out(opts.json ? `${JSON.stringify(item.record)}\n` : `${describe(item.record)}\n`);
        }
      }
      show('');
      const summary = `${records} record(s) in ${blobs} blob(s) of ${ctx.config.ARCHIVE_CONTAINER}, archived ${query.from.toISOString()} … ${query.to.toISOString()}${unreadable ? `; ${unreadable} unreadable line(s) skipped` : ''}\n`;
      if (opts.json) process.stderr.write(summary);
      else io.out(summary);
    });

  withFilters(
    archive
      .command('replay')
      .description('Re-enqueue archived messages (original text and ids) to a queue; resumable (checkpoint)')
      .requiredOption('--to-queue <name>', 'queue to send them to'),
  )
    .option('--dry-run', 'show what would be sent, write nothing')
    .option('--rate <n>', 'messages per second at most', positiveInt)
    .option('--checkpoint <name>', 'checkpoint name (default: derived from the command line)')
    .option('--restart', 'ignore an unfinished checkpoint of the same name and start over')
    .action(async (opts: FilterOptions & { toQueue: string; dryRun?: boolean; rate?: number; checkpoint?: string; restart?: boolean }) => {
      const { replayArchive, checkpointName } = await import('../shared/archive/replay');
      const { QueueWriter, writerOptions } = await import('../shared/queue/writer');
      const { queueName } = await import('../shared/config/core');
      if (!queueName().safeParse(opts.toQueue).success)
        throw new Error(`--to-queue "${opts.toQueue}" is not a queue name (3-63 lower-case letters, digits, single dashes)`);
      const ctx = await cliContext(io.cwd(), io.env());
      const query = await toQuery(opts, {});
      const name =
        opts.checkpoint ??
        checkpointName(
          { source: opts.source?.join(','), type: opts.type, subject: opts.subject, id: opts.id, from: opts.from, to: opts.to },
          opts.toQueue,
        );
      // No archive option: replayed messages are not archived again.
      const writer = new QueueWriter(ctx.storage, writerOptions(ctx.config));
      if (!opts.dryRun) await writer.ensureQueue(opts.toQueue);
      const show = progress();
      const summary = await replayArchive({
        container: ctx.storage.blobs.getContainerClient(ctx.config.ARCHIVE_CONTAINER),
        query,
        toQueue: opts.toQueue,
        writer,
        queue: ctx.storage.queues.getQueueClient(opts.toQueue),
        messageTimeToLive: writer.timeToLive(opts.toQueue),
        checkpoint: name,
        ...(opts.dryRun ? { dryRun: true } : {}),
        ...(opts.rate ? { rate: opts.rate } : {}),
        ...(opts.restart ? { restart: true } : {}),
        onRecord: opts.dryRun ? (r) => io.out(`would send ${describe(r)}\n`) : undefined,
        onProgress: (sent) => show(`sent ${sent} message(s) to ${opts.toQueue}`),
      });
      show('');
      const types = Object.entries(summary.byType)
        .map(([t, n]) => `${t}: ${n}`)
        .join(', ');
      io.out(
        `${summary.dryRun ? 'dry run: would replay' : 'replayed'} ${summary.sent} message(s) to ${summary.toQueue} ` +
          `(archived ${summary.from} … ${summary.to}, ${summary.blobs} blob(s) read${types ? `; ${types}` : ''})\n`,
      );
      if (!summary.dryRun)
        io.out(`checkpoint ${summary.checkpoint}: ${summary.resumed ? `resumed, ${summary.sentTotal} sent in all runs, ` : ''}complete\n`);
      if (summary.unreadable) io.out(`${summary.unreadable} unreadable line(s) skipped\n`);
    });
}
