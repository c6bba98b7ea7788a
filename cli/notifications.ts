/**
 * `engage-bridge notifications quarantine list|show|replay|discard`: what the Notification API v2 drain
 * could not take (a page over the limits or not a page, a journal entry whose replay kept failing), kept
 * as raw text with the reason in JOURNAL_CONTAINER under `quarantine/`. A replay enqueues with the ids
 * the drain would have given; a discard needs the id and `--yes`.
 */
import type { Command } from 'commander';
import { cliContext, positiveInt, processIo, type CliIo } from './settings';

async function context(io: CliIo) {
  const [{ JsonBlobStore }, ctx] = await Promise.all([import('../shared/state/jsonBlobStore'), cliContext(io.cwd(), io.env())]);
  return { ...ctx, journal: new JsonBlobStore(ctx.storage, ctx.config.JOURNAL_CONTAINER) };
}

export function registerNotificationCommands(program: Command, io: CliIo = processIo): void {
  const quarantine = program
    .command('notifications')
    .description('Notification API v2 drain: its quarantine')
    .command('quarantine')
    .description('Pages and journal entries the drain could not take, kept with the reason: list, show, replay, discard');

  quarantine
    .command('list')
    .description('List quarantined items (id, when, reason)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { listQuarantine, readQuarantined } = await import('../shared/notificationApiV2/quarantine');
      const { journal } = await context(io);
      const items = [];
      for (const name of await listQuarantine(journal)) {
        const item = await readQuarantined(journal, name);
        if (item) items.push({ id: item.name, at: item.at ?? null, from: item.from, reason: item.reason, bytes: item.text.length });
      }
      if (opts.json) return io.out(`${JSON.stringify(items, null, 2)}\n`);
      if (items.length === 0) return io.out('Nothing in quarantine.\n');
      io.out(items.map((i) => `${i.id}  ${i.at ?? '?'}  ${i.bytes} chars  ${i.reason}\n`).join(''));
    });

  quarantine
    .command('show <id>')
    .description('Show a quarantined item: its reason and raw text')
    .option('--max-chars <n>', 'print at most n characters of the text', positiveInt, 10_000)
    .option('--json', 'print JSON (the whole text)')
    .action(async (id: string, opts: { maxChars: number; json?: boolean }) => {
      const { readQuarantined } = await import('../shared/notificationApiV2/quarantine');
      const { journal } = await context(io);
      const item = await readQuarantined(journal, id);
      if (!item) throw new Error(`no quarantined item ${id} (see \`notifications quarantine list\`)`);
      const { etag: _etag, ...shown } = item;
      void _etag;
      if (opts.json) return io.out(`${JSON.stringify(shown, null, 2)}\n`);
      io.out(`id          ${item.name}\nfrom        ${item.from}\nat          ${item.at ?? '?'}\nreason      ${item.reason}\n`);
      if (item.subscriptionId) io.out(`subscription ${item.subscriptionId}\n`);
      const cut = item.text.length > opts.maxChars;
      io.out(
        `text (${item.text.length} chars${cut ? `, first ${opts.maxChars}` : ''}):\n${cut ? item.text.slice(0, opts.maxChars) : item.text}\n`,
      );
    });

  quarantine
    .command('replay <id>')
    .description(
      'Enqueue a quarantined item (page results as array, object or null; a bare array; a journal entry) with the same ids, then remove it',
    )
    .option('--max-depth <n>', 'nesting allowed when parsing the text (default NOTIFICATIONS_PAGE_MAX_DEPTH)', positiveInt)
    .option('--max-elements <n>', 'values allowed when parsing the text (default NOTIFICATIONS_PAGE_MAX_ELEMENTS)', positiveInt)
    .option('--dry-run', 'show what would be enqueued, change nothing')
    .action(async (id: string, opts: { maxDepth?: number; maxElements?: number; dryRun?: boolean }) => {
      const [{ replayQuarantined }, { QueueWriter, writerOptions }] = await Promise.all([
        import('../shared/notificationApiV2/quarantine'),
        import('../shared/queue/writer'),
      ]);
      const { journal, storage, config } = await context(io);
      const res = await replayQuarantined(
        { journal, writer: new QueueWriter(storage, writerOptions(config, config.NOTIFICATIONS_ENQUEUE_CONCURRENCY)) },
        id,
        {
          queue: config.NOTIFICATIONS_QUEUE,
          format: config.NOTIFICATIONS_MESSAGE_FORMAT,
          deadLetterQueue: config.DEADLETTER_QUEUE,
          limits: { maxDepth: config.NOTIFICATIONS_MAX_DEPTH, maxElements: config.NOTIFICATIONS_MAX_ELEMENTS },
          textLimits: {
            maxDepth: opts.maxDepth ?? config.NOTIFICATIONS_PAGE_MAX_DEPTH,
            maxElements: opts.maxElements ?? config.NOTIFICATIONS_PAGE_MAX_ELEMENTS,
          },
          source: config.NOTIFICATIONS_API_BASE_URL ?? 'urn:engage-bridge:notifications',
          dryRun: opts.dryRun,
        },
      );
      io.out(
        `${opts.dryRun ? 'would replay' : 'replayed'} ${res.name}: ${res.messages} message(s) to ${config.NOTIFICATIONS_QUEUE}` +
          `${res.deadLettered ? `, ${res.deadLettered} over the limits to ${config.DEADLETTER_QUEUE}` : ''} (ids ${res.entryName}:<index>)\n`,
      );
    });

  quarantine
    .command('discard <id>')
    .description('Delete one quarantined item for good (needs --yes)')
    .option('--yes', 'confirm: the item and its notifications are gone')
    .action(async (id: string, opts: { yes?: boolean }) => {
      if (!opts.yes) throw new Error(`discarding ${id} deletes its notifications for good; run again with --yes to confirm`);
      const { discardQuarantined } = await import('../shared/notificationApiV2/quarantine');
      const { journal } = await context(io);
      io.out(`discarded ${await discardQuarantined(journal, id)}\n`);
    });
}
