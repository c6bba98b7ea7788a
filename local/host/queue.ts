/**
 * Storage queue triggers as the Functions host runs them (Storage extension 5.x semantics):
 * - polls with the host's randomized exponential back-off (QueueListener's RandomizedExponentialBackoffStrategy:
 *   100 ms, then 100 ms + 0.8–1.2 × 100 × 2^(n-1) ms, …) up to `maxPollingInterval` while the queue is empty;
 *   after a poll that found messages the back-off starts again from 100 ms;
 * - fetches up to `batchSize` messages and runs them in parallel; fetches the next batch as soon as no more
 *   than `newBatchThreshold` messages are still running (so one slow message does not hold up the queue);
 * - decodes base64 (`messageEncoding`) and invokes the function with the message text and the trigger
 *   metadata the host sends (rpc.ts; the library hands JSON to the handler as an object);
 * - deletes the message on success; on failure makes it visible again after `visibilityTimeout`; once a
 *   message has failed `maxDequeueCount` times it is moved, unchanged, to `<queue>-poison`, with the
 *   queue's default time-to-live, as Azure's host does (QueueProcessor.CopyMessageToPoisonQueueAsync
 *   sends with no TTL: 7 days; keeping poison longer is the app's rule, not the host's);
 * - creates the queue and its poison queue when first needed, and again when storage says they are
 *   missing (deleted, or storage restarted empty); every storage call has the storage deadline.
 */
import type { DequeuedMessageItem, QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { HOST_STORAGE_DEADLINE_MS, isQueueNotFound, QueueCreator, sendCreatingQueue } from './storage';
import type { IndexedFunction } from './app';
import type { QueueOptions } from './hostConfig';
import type { HostLog } from './invocation';
import { invoke, queueTriggerData, type WriterFor } from './rpc';

/** QueuePollingIntervals.Minimum of the Storage extension. */
const MIN_POLL_MS = 100;
/** RandomizedExponentialBackoffStrategy.RandomizationFactor. */
const RANDOMIZATION_FACTOR = 0.2;

/**
 * The delay between polls of an empty queue, as the Storage extension's QueueListener computes it
 * (RandomizedExponentialBackoffStrategy with minimum 100 ms, delta 100 ms, maximum `maxPollingInterval`):
 * `next(true)` after a poll that found messages since the last delay resets it to 100 ms.
 */
export class PollBackoff {
  private currentMs = 0;
  private exponent = 0;

  constructor(
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(foundMessagesSinceLastDelay: boolean): number {
    if (foundMessagesSinceLastDelay) {
      this.currentMs = MIN_POLL_MS;
      this.exponent = 1;
    } else if (this.currentMs !== this.maxMs) {
      let interval = MIN_POLL_MS;
      if (this.exponent > 0) {
        const factor = 1 - RANDOMIZATION_FACTOR + this.random() * 2 * RANDOMIZATION_FACTOR;
        interval += factor * 2 ** (this.exponent - 1) * MIN_POLL_MS;
      }
      if (interval < this.maxMs) {
        this.currentMs = interval;
        this.exponent++;
      } else {
        this.currentMs = this.maxMs;
      }
    }
    return this.currentMs;
  }
}

/** Decodes a queue message text per `messageEncoding`; throws on text that is not valid base64. */
export function decodeQueueMessage(messageText: string, encoding: 'base64' | 'none'): string {
  if (encoding === 'none') return messageText;
  const compact = messageText.replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new Error('Message decoding has failed: the message is not a valid base64 string (host.json messageEncoding is "base64")');
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}

export class QueuePoller {
  readonly queueName: string;
  readonly functionName: string;
  private readonly queue: QueueClient;
  private readonly poisonName: string;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly backoff: PollBackoff;
  /** Messages being processed (the host's `_processing`). */
  private readonly processing = new Set<Promise<void>>();
  private readonly created: QueueCreator;

  constructor(
    private readonly def: IndexedFunction,
    private readonly options: QueueOptions,
    private readonly log: HostLog,
    private readonly queues: QueueServiceClient,
    private readonly writer: WriterFor,
    /** Visibility while a message is being processed (the real host uses 10 minutes and renews it). */
    private readonly processingVisibilitySeconds = 600,
  ) {
    this.functionName = def.name;
    this.queueName = String(def.trigger.queueName);
    this.queue = queues.getQueueClient(this.queueName);
    this.poisonName = `${this.queueName}-poison`;
    this.backoff = new PollBackoff(options.maxPollingIntervalMs);
    this.created = new QueueCreator((name) => queues.getQueueClient(name).createIfNotExists({ abortSignal: this.deadline() }));
  }

  private deadline(): AbortSignal {
    return AbortSignal.timeout(HOST_STORAGE_DEADLINE_MS);
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await Promise.all(this.processing);
  }

  private async run(): Promise<void> {
    let found = false;
    while (!this.stopped) {
      let messages: DequeuedMessageItem[] = [];
      const ready = this.created.ensure(this.queueName);
      try {
        await ready;
        const res = await this.queue.receiveMessages({
          numberOfMessages: this.options.batchSize,
          visibilityTimeout: this.processingVisibilitySeconds,
          abortSignal: this.deadline(),
        });
        messages = res.receivedMessageItems;
      } catch (err) {
        if (isQueueNotFound(err)) this.created.forget(this.queueName, ready); // created again on the next poll
        this.log.write('warning', `Functions.${this.def.name}`, `polling queue "${this.queueName}" failed: ${describe(err)}`);
      }
      if (messages.length === 0) {
        const delay = this.backoff.next(found);
        found = false;
        await this.sleep(delay);
        continue;
      }
      found = true;
      for (const m of messages) {
        const task: Promise<void> = this.process(m).finally(() => this.processing.delete(task));
        this.processing.add(task);
      }
      // The next batch is fetched once no more than newBatchThreshold messages are still running.
      while (this.processing.size > this.options.newBatchThreshold) await Promise.race(this.processing);
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
        const text = decodeQueueMessage(m.messageText, this.options.messageEncoding);
        await invoke(
          this.def,
          this.log,
          `New queue message detected on '${this.queueName}'`,
          queueTriggerData(this.def, m, text),
          this.writer,
        );
        ok = true;
      } catch (err) {
        this.log.write(
          'warning',
          scope,
          `message ${m.messageId} failed (dequeueCount ${m.dequeueCount}/${this.options.maxDequeueCount}): ${describe(err)}`,
        );
      }
      if (ok) {
        await this.queue.deleteMessage(m.messageId, m.popReceipt, { abortSignal: this.deadline() });
      } else if (m.dequeueCount >= this.options.maxDequeueCount) {
        await this.moveToPoison(m);
      } else {
        await this.queue.updateMessage(m.messageId, m.popReceipt, undefined, Math.round(this.options.visibilityTimeoutMs / 1000), {
          abortSignal: this.deadline(),
        });
      }
    } catch (err) {
      // Storage trouble while settling: the message reappears after its visibility timeout.
      this.log.write('warning', scope, `could not settle message ${m.messageId}: ${describe(err)}`);
    }
  }

  private async moveToPoison(m: DequeuedMessageItem): Promise<void> {
    await sendCreatingQueue(this.queues, this.created, this.poisonName, m.messageText);
    await this.queue.deleteMessage(m.messageId, m.popReceipt, { abortSignal: this.deadline() });
    this.log.write(
      'warning',
      `Functions.${this.def.name}`,
      `message ${m.messageId} moved to "${this.queueName}-poison" after ${m.dequeueCount} attempts`,
    );
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message.split('\n')[0]}`;
  return String(err);
}
