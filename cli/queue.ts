/** `engage-bridge queue peek <name>`: the first messages of a main queue, unchanged (peek does not dequeue). */
import type { Command } from 'commander';
import { cliContext, positiveInt, processIo, requireKnownQueue, type CliIo } from './settings';

/** A queue message's text as JSON: base64 JSON (what the bridge writes), else plain JSON, else the text. */
export function decodeMessageText(text: string): unknown {
  for (const candidate of [Buffer.from(text, 'base64').toString('utf8'), text]) {
    try {
      return JSON.parse(candidate);
    } catch {
      /* next */
    }
  }
  return text;
}

export function registerQueueCommands(program: Command, io: CliIo = processIo): void {
  const queue = program.command('queue').description('Main queues: peek at their messages');
  queue
    .command('peek')
    .description('Show the first messages of a queue (at most 32) without removing them')
    .argument('<name>', 'queue name, e.g. engage-visitor')
    .option('--max <n>', 'messages to show (1-32)', positiveInt, 5)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { max: number; json?: boolean }) => {
      const ctx = await cliContext(io.cwd(), io.env());
      const client = ctx.storage.queues.getQueueClient(name);
      if (!(await client.exists())) await requireKnownQueue(ctx.storage.queues, name);
      const depth = (await client.getProperties()).approximateMessagesCount ?? 0;
      const peeked = await client.peekMessages({ numberOfMessages: Math.min(32, opts.max) });
      const messages = peeked.peekedMessageItems.map((m) => ({
        messageId: m.messageId,
        insertedOn: m.insertedOn?.toISOString(),
        dequeueCount: m.dequeueCount,
        body: decodeMessageText(m.messageText),
      }));
      if (opts.json) return io.out(`${JSON.stringify({ queue: name, depth, messages }, null, 2)}\n`);
      io.out(`${name}: ${depth} message(s)${depth > messages.length ? `, showing ${messages.length}` : ''}\n`);
      for (const m of messages)
        io.out(`\n${m.messageId}  inserted ${m.insertedOn ?? '?'}  dequeued ${m.dequeueCount}x\n${JSON.stringify(m.body, null, 2)}\n`);
    });
}
