/**
 * Queue and Blob clients by the Azure Functions connection convention (`<prefix>` connection string,
 * or `<prefix>__accountName` / `__queueServiceUri` / `__blobServiceUri` / `__clientId` for managed
 * identity). Every storage call runs under `withDeadline` (ENGAGE_STORAGE_DEADLINE_MS) because the
 * SDK's `tryTimeoutInMs` only bounds the service, not the wait: storage-common does not abort a try
 * that gets no answer.
 */
import type { QueueServiceClient } from '@azure/storage-queue';
import type { BlobServiceClient } from '@azure/storage-blob';
import { coreSettings } from './config/core';
import { ConfigError, StorageUnavailableError } from './errors';
import { Redactor } from './redact';

export interface StorageClients {
  queues: QueueServiceClient;
  blobs: BlobServiceClient;
  /** How the clients authenticate, for diagnostics (never the secret itself). */
  mode: 'connectionString' | 'identity';
  /** ENGAGE_STORAGE_DEADLINE_MS: the longest any one storage call may take. */
  deadlineMs: number;
}

const AZURITE_DEFAULT =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;';

/** Retry policy: a few quick tries (refused connections, 500/503), all within the call's deadline. */
function retryOptions(deadlineMs: number) {
  return { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: Math.max(1000, deadlineMs) };
}

/** ENGAGE_STORAGE_DEADLINE_MS, validated by the settings schema (default 10 s). */
export function storageDeadlineMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ENGAGE_STORAGE_DEADLINE_MS;
  const parsed = coreSettings.shape.ENGAGE_STORAGE_DEADLINE_MS.safeParse(raw === '' ? undefined : raw);
  if (!parsed.success) throw new ConfigError([`ENGAGE_STORAGE_DEADLINE_MS: ${parsed.error.issues[0]?.message ?? 'invalid'}`]);
  return parsed.data;
}

const cache = new Map<string, Promise<StorageClients>>();

export function getStorage(prefix = 'AzureWebJobsStorage', env: NodeJS.ProcessEnv = process.env): Promise<StorageClients> {
  const keyParts = [
    prefix,
    env[prefix],
    env[`${prefix}__accountName`],
    env[`${prefix}__queueServiceUri`],
    env[`${prefix}__blobServiceUri`],
    env[`${prefix}__clientId`],
    env.ENGAGE_STORAGE_DEADLINE_MS,
  ];
  const key = keyParts.map((p) => p ?? '').join('|');
  let clients = cache.get(key);
  if (!clients) {
    clients = (async () => createStorage(prefix, env, storageDeadlineMs(env)))();
    cache.set(key, clients);
    clients.catch(() => cache.delete(key));
  }
  return clients;
}

async function createStorage(prefix: string, env: NodeJS.ProcessEnv, deadlineMs: number): Promise<StorageClients> {
  const [{ QueueServiceClient }, { BlobServiceClient }] = await Promise.all([
    import('@azure/storage-queue'),
    import('@azure/storage-blob'),
  ]);
  const conn = env[prefix];
  if (conn) {
    const resolved = conn.trim() === 'UseDevelopmentStorage=true' ? AZURITE_DEFAULT : conn;
    try {
      // The SDK only notices a key that is not base64 when it signs the first request.
      const key = /(?:^|;)\s*AccountKey=([^;]*)/i.exec(resolved)?.[1];
      if (key !== undefined && !/^[A-Za-z0-9+/]+={0,2}$/.test(key.trim())) throw new Error('AccountKey is not base64');
      return {
        queues: QueueServiceClient.fromConnectionString(resolved, { retryOptions: retryOptions(deadlineMs) }),
        blobs: BlobServiceClient.fromConnectionString(resolved, { retryOptions: retryOptions(deadlineMs) }),
        mode: 'connectionString',
        deadlineMs,
      };
    } catch (err) {
      const reason = new Redactor([conn]).text(err instanceof Error ? err.message : String(err));
      throw new ConfigError([
        `${prefix}: is not a valid storage connection string (${reason}); expected UseDevelopmentStorage=true, DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net, or a SAS connection string (BlobEndpoint=…;QueueEndpoint=…;SharedAccessSignature=…)`,
      ]);
    }
  }
  const account = env[`${prefix}__accountName`];
  const queueUri = env[`${prefix}__queueServiceUri`] ?? (account ? `https://${account}.queue.core.windows.net` : undefined);
  const blobUri = env[`${prefix}__blobServiceUri`] ?? (account ? `https://${account}.blob.core.windows.net` : undefined);
  if (!queueUri || !blobUri) {
    throw new ConfigError([
      `${prefix}: storage connection is not configured: set ${prefix} or ${prefix}__accountName (or both ${prefix}__queueServiceUri and ${prefix}__blobServiceUri)`,
    ]);
  }
  const { DefaultAzureCredential } = await import('@azure/identity');
  const clientId = env[`${prefix}__clientId`];
  const credential = new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : undefined);
  return {
    queues: new QueueServiceClient(queueUri, credential, { retryOptions: retryOptions(deadlineMs) }),
    blobs: new BlobServiceClient(blobUri, credential, { retryOptions: retryOptions(deadlineMs) }),
    mode: 'identity',
    deadlineMs,
  };
}

/**
 * Runs one storage call with a deadline: `fn` gets an AbortSignal that fires after `deadlineMs` (or
 * when `outer` fires, e.g. the webhook's per-request deadline), to pass to the SDK as `abortSignal`.
 * Settles by then even if the call ignores the signal: a call that ran out of time rejects with
 * StorageUnavailableError (the caller answers 503 or ends its run; nothing is acknowledged).
 */
export function withDeadline<T>(
  deadlineMs: number,
  what: string,
  fn: (signal: AbortSignal) => Promise<T>,
  outer?: AbortSignal,
): Promise<T> {
  // An outer deadline (deadlineSignal) that ends first is the only one that can fire: no second timer, no AbortSignal.any.
  const outerEnds = outer ? deadlines.get(outer) : undefined;
  const signal =
    outer && outerEnds !== undefined && outerEnds <= Date.now() + deadlineMs
      ? outer
      : outer
        ? AbortSignal.any([outer, AbortSignal.timeout(deadlineMs)])
        : AbortSignal.timeout(deadlineMs);
  return untilAborted(signal.aborted ? Promise.reject(new Error('aborted')) : fn(signal), signal, what);
}

const deadlines = new WeakMap<AbortSignal, number>();

/** `AbortSignal.timeout(ms)` whose end withDeadline knows (a request's deadline, counted from its start). */
export function deadlineSignal(ms: number): AbortSignal {
  const signal = AbortSignal.timeout(ms);
  deadlines.set(signal, Date.now() + ms);
  return signal;
}

/** Waits for `promise` no longer than `signal` allows (a shared creation, or a call given the signal). */
export async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return promise;
  const late = () => new StorageUnavailableError(`storage did not answer within the deadline (${what})`);
  // An answer after the deadline is ignored (its rejection must not become unhandled).
  promise.catch(() => undefined);
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    onAbort = () => reject(late());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, expired]);
  } catch (err) {
    throw signal.aborted ? late() : err;
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

/** True when a storage call failed because its queue or container does not exist (any more). */
export function isMissing(err: unknown, code: 'QueueNotFound' | 'ContainerNotFound'): boolean {
  const e = err as { statusCode?: number; code?: string; details?: { errorCode?: string } } | undefined;
  return e?.statusCode === 404 && (e.code === code || e.details?.errorCode === code);
}

/**
 * Creates each named resource (queue, container) once per process. After a call found it missing,
 * `forget(name, seen)` drops the creation that call waited for, so the next `ensure` creates it
 * again: concurrent callers that all saw the same 404 cause one creation, not one each.
 */
export class CreateOnce {
  private readonly created = new Map<string, Promise<void>>();
  private readonly done = new Set<string>();

  constructor(private readonly create: (name: string) => Promise<unknown>) {}

  /** Whether `name` is known to exist (its creation succeeded): callers can skip waiting for ensure(). */
  isCreated(name: string): boolean {
    return this.done.has(name);
  }

  ensure(name: string): Promise<void> {
    let p = this.created.get(name);
    if (!p) {
      const created = this.create(name).then(() => {
        if (this.created.get(name) === created) this.done.add(name);
      });
      this.created.set(name, created);
      created.catch(() => {
        if (this.created.get(name) === created) this.created.delete(name);
      });
      p = created;
    }
    return p;
  }

  forget(name: string, seen: Promise<void>): void {
    if (this.created.get(name) === seen) {
      this.created.delete(name);
      this.done.delete(name);
    }
  }
}

/** Azurite's well-known development connection string for given ports (tests, local host). */
export function azuriteConnectionString(blobPort: number, queuePort: number, host = '127.0.0.1'): string {
  return AZURITE_DEFAULT.replace('127.0.0.1:10000', `${host}:${blobPort}`)
    .replace('127.0.0.1:10001', `${host}:${queuePort}`)
    .replace(';TableEndpoint=http://127.0.0.1:10002/devstoreaccount1', '');
}
