/**
 * Storage queue triggers as the Functions host runs them (Storage extension 5.x semantics):
 * - polls with exponential back-off (from 100 ms, doubling) up to `maxPollingInterval` while the queue
 *   is empty, and immediately again while it has messages;
 * - fetches up to `batchSize` messages and runs them in parallel;
 * - decodes base64 (`messageEncoding`), passes JSON as an object and anything else as a string, with
 *   trigger metadata `id, dequeueCount, insertionTime, expirationTime, nextVisibleTime, popReceipt, queueTrigger`;
 * - deletes the message on success; on failure makes it visible again after `visibilityTimeout`; once a
 *   message has failed `maxDequeueCount` times it is moved, unchanged, to `<queue>-poison`.
 */
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import type { QueueFunctionDefinition } from '../../shared/definition';
import { NEVER_EXPIRES, type QueueWriter } from '../../shared/queue/writer';
import type { StorageClients } from '../../shared/storage';
import type { QueueOptions } from './hostConfig';
import { resolveSettingRefs } from './hostConfig';
import { createContext, invoke, writeOutputBindings, type HostLog } from './invocation';

const MIN_POLL_MS = 100;

export function nextPollDelay(previousMs: number, maxMs: number): number {
  return Math.min(maxMs, previousMs <= 0 ? MIN_POLL_MS : previousMs * 2);
}

/** Decodes a queue message text per `messageEncoding`; throws on text that is not valid base64. */
export function decodeQueueMessage(messageText: string, encoding: 'base64' | 'none'): { text: string; payload: unknown } {
  let text = messageText;
  if (encoding === 'base64') {
    const compact = messageText.replace(/\s/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
      throw new Error('Message decoding has failed: the message is not a valid base64 string (host.json messageEncoding is "base64")');
    }
    text = Buffer.from(compact, 'base64').toString('utf8');
  }
  try {
    return { text, payload: JSON.parse(text) };
  } catch {
    return { text, payload: text };
  }
}

export class QueuePoller {
  readonly queueName: string;
  readonly functionName: string;
  private readonly queue: QueueClient;
  private readonly poison: QueueClient;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private delayMs = 0;

  constructor(
    private readonly def: QueueFunctionDefinition,
    private readonly options: QueueOptions,
    private readonly log: HostLog,
    storage: StorageClients,
    private readonly writer: () => Promise<QueueWriter>,
    /** Visibility while a message is being processed (the real host uses 10 minutes and renews it). */
    private readonly processingVisibilitySeconds = 600,
  ) {
    this.functionName = def.name;
    this.queueName = resolveSettingRefs(def.trigger.queueName, process.env);
    this.queue = storage.queues.getQueueClient(this.queueName);
    this.poison = storage.queues.getQueueClient(`${this.queueName}-poison`);
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let created = false;
    while (!this.stopped) {
      let messages: DequeuedMessageItem[] = [];
      try {
        if (!created) {
          await this.queue.createIfNotExists();
          created = true;
        }
        const res = await this.queue.receiveMessages({ numberOfMessages: this.options.batchSize, visibilityTimeout: this.processingVisibilitySeconds });
        messages = res.receivedMessageItems;
      } catch (err) {
        this.log.write('warning', `Functions.${this.def.name}`, `polling queue "${this.queueName}" failed: ${describe(err)}`);
      }
      if (messages.length === 0) {
        this.delayMs = nextPollDelay(this.delayMs, this.options.maxPollingIntervalMs);
        await this.sleep(this.delayMs);
        continue;
      }
      this.delayMs = 0;
      await Promise.all(messages.map((m) => this.process(m)));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async process(m: DequeuedMessageItem): Promise<void> {
    const scope = `Functions.${this.def.name}`;
    try {
      if (m.dequeueCount > this.options.maxDequeueCount) {
        // Already tried maxDequeueCount times (e.g. the host died while processing): straight to poison.
        await this.moveToPoison(m);
        return;
      }
      let ok = false;
      try {
        const { text, payload } = decodeQueueMessage(m.messageText, this.options.messageEncoding);
        const context = createContext(this.def, this.log, {
          id: m.messageId,
          queueTrigger: text,
          dequeueCount: m.dequeueCount,
          insertionTime: m.insertedOn.toISOString(),
          expirationTime: m.expiresOn.toISOString(),
          nextVisibleTime: m.nextVisibleOn.toISOString(),
          popReceipt: m.popReceipt,
        });
        await invoke(this.def, this.log, context, `New queue message detected on '${this.queueName}'`, async () => {
          await this.def.handler(payload, context);
          await writeOutputBindings(this.def, context, this.writer);
        });
        ok = true;
      } catch (err) {
        this.log.write('warning', scope, `message ${m.messageId} failed (dequeueCount ${m.dequeueCount}/${this.options.maxDequeueCount}): ${describe(err)}`);
      }
      if (ok) {
        await this.queue.deleteMessage(m.messageId, m.popReceipt);
      } else if (m.dequeueCount >= this.options.maxDequeueCount) {
        await this.moveToPoison(m);
      } else {
        await this.queue.updateMessage(m.messageId, m.popReceipt, undefined, Math.round(this.options.visibilityTimeoutMs / 1000));
      }
    } catch (err) {
      // Storage trouble while settling: the message reappears after its visibility timeout.
      this.log.write('warning', scope, `could not settle message ${m.messageId}: ${describe(err)}`);
    }
  }

  private async moveToPoison(m: DequeuedMessageItem): Promise<void> {
    await this.poison.createIfNotExists();
    await this.poison.sendMessage(m.messageText, { messageTimeToLive: NEVER_EXPIRES });
    await this.queue.deleteMessage(m.messageId, m.popReceipt);
    this.log.write('warning', `Functions.${this.def.name}`, `message ${m.messageId} moved to "${this.queueName}-poison" after ${m.dequeueCount} attempts`);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message.split('\n')[0]}`;
  return String(err);
}
