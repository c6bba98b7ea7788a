/**
 * The host's own storage clients, made from a connection setting prefix as the Functions host makes
 * them (no app code): `<prefix>` holds a connection string (`UseDevelopmentStorage=true` = Azurite on
 * its default ports), or `<prefix>__accountName` / `<prefix>__queueServiceUri` / `<prefix>__blobServiceUri`
 * select identity-based access (DefaultAzureCredential; `<prefix>__clientId` picks a user-assigned identity).
 */
import { QueueServiceClient } from '@azure/storage-queue';
import { HostSettingsError } from './settings';

/** Longest wait for one storage call of the host (poll, settle, poison, output binding). */
export const HOST_STORAGE_DEADLINE_MS = 10_000;

const AZURITE_DEFAULT =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;';

const retryOptions = { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: HOST_STORAGE_DEADLINE_MS };

const cache = new Map<string, Promise<QueueServiceClient>>();

/** The Queue service client of a connection (cached per prefix and value); a HostSettingsError naming the setting (never its value) when it is unusable. */
export function hostQueues(prefix: string, env: NodeJS.ProcessEnv = process.env): Promise<QueueServiceClient> {
  const key = [prefix, env[prefix], env[`${prefix}__accountName`], env[`${prefix}__queueServiceUri`], env[`${prefix}__clientId`]]
    .map((p) => p ?? '')
    .join('|');
  let clients = cache.get(key);
  if (!clients) {
    clients = createQueues(prefix, env);
    cache.set(key, clients);
    clients.catch(() => cache.delete(key));
  }
  return clients;
}

async function createQueues(prefix: string, env: NodeJS.ProcessEnv): Promise<QueueServiceClient> {
  const conn = env[prefix];
  if (conn) {
    const resolved = conn.trim() === 'UseDevelopmentStorage=true' ? AZURITE_DEFAULT : conn;
    try {
      return QueueServiceClient.fromConnectionString(resolved, { retryOptions });
    } catch {
      throw new HostSettingsError([`${prefix}: is not a valid storage connection string`]);
    }
  }
  const account = env[`${prefix}__accountName`];
  const queueUri = env[`${prefix}__queueServiceUri`] ?? (account ? `https://${account}.queue.core.windows.net` : undefined);
  if (!queueUri)
    throw new HostSettingsError([
      `${prefix}: storage connection is not configured: set ${prefix} or ${prefix}__accountName (or ${prefix}__queueServiceUri)`,
    ]);
  const { DefaultAzureCredential } = await import('@azure/identity');
  const clientId = env[`${prefix}__clientId`];
  return new QueueServiceClient(queueUri, new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : undefined), {
    retryOptions,
  });
}

/** A deadline signal for one host storage call. */
export function hostDeadline(): AbortSignal {
  return AbortSignal.timeout(HOST_STORAGE_DEADLINE_MS);
}

/** True when a storage call failed because its queue does not exist (any more). */
export function isQueueNotFound(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: string; details?: { errorCode?: string } } | undefined;
  return e?.statusCode === 404 && (e.code === 'QueueNotFound' || e.details?.errorCode === 'QueueNotFound');
}

/**
 * Creates each queue once per process; after a call found it missing, `forget(name, seen)` drops the
 * creation that call waited for, so concurrent callers that saw the same 404 cause one creation.
 */
export class QueueCreator {
  private readonly pending = new Map<string, Promise<void>>();
  constructor(private readonly create: (name: string) => Promise<unknown>) {}

  ensure(name: string): Promise<void> {
    let p = this.pending.get(name);
    if (!p) {
      p = this.create(name).then(() => undefined);
      this.pending.set(name, p);
      p.catch(() => this.pending.get(name) === p && this.pending.delete(name));
    }
    return p;
  }

  forget(name: string, seen: Promise<void>): void {
    if (this.pending.get(name) === seen) this.pending.delete(name);
  }
}

/**
 * Sends one message, creating the queue when it is missing (the host's AddMessageAndCreateIfNotExistsAsync):
 * no time-to-live is given, so the queue's default (7 days) applies, as in Azure.
 */
export async function sendCreatingQueue(queues: QueueServiceClient, creator: QueueCreator, queue: string, text: string): Promise<void> {
  const client = queues.getQueueClient(queue);
  const ready = creator.ensure(queue);
  await ready;
  try {
    await client.sendMessage(text, { abortSignal: hostDeadline() });
  } catch (err) {
    if (!isQueueNotFound(err)) throw err;
    creator.forget(queue, ready);
    await creator.ensure(queue);
    await client.sendMessage(text, { abortSignal: hostDeadline() });
  }
}

/**
 * Queue output bindings as the host writes them: each message base64-encoded (a string as is, anything
 * else as JSON), the queue created when missing, the queue's default time-to-live. No claim checks:
 * a message over the service's 64 KiB limit fails the invocation, as in Azure.
 */
export class QueueOutput {
  private readonly created: QueueCreator;

  constructor(private readonly queues: QueueServiceClient) {
    this.created = new QueueCreator((name) => queues.getQueueClient(name).createIfNotExists({ abortSignal: hostDeadline() }));
  }

  async send(queue: string, bodies: readonly unknown[]): Promise<void> {
    for (const body of bodies) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      await sendCreatingQueue(this.queues, this.created, queue, Buffer.from(text, 'utf8').toString('base64'));
    }
  }
}
