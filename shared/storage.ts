/**
 * One factory for Queue and Blob service clients, by the Azure Functions connection convention:
 * - `<prefix>` holds a connection string (`UseDevelopmentStorage=true` for Azurite on its default
 *   ports, or an explicit one); or
 * - `<prefix>__accountName` / `<prefix>__queueServiceUri` / `<prefix>__blobServiceUri` select
 *   identity-based access with DefaultAzureCredential (`<prefix>__clientId` picks a user-assigned
 *   managed identity).
 * The SDKs are imported lazily so that loading the app stays cheap (cold start). A missing or
 * malformed connection is a ConfigError naming the setting (never its value).
 */
import type { QueueServiceClient } from '@azure/storage-queue';
import type { BlobServiceClient } from '@azure/storage-blob';
import { ConfigError } from './errors';
import { Redactor } from './redact';

export interface StorageClients {
  queues: QueueServiceClient;
  blobs: BlobServiceClient;
  /** How the clients authenticate, for diagnostics (never the secret itself). */
  mode: 'connectionString' | 'identity';
}

const AZURITE_DEFAULT =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;';

/** Retry policy: a few quick tries, so a storage outage surfaces as 503 within seconds. */
const RETRY = { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: 15000 };

const cache = new Map<string, Promise<StorageClients>>();

export function getStorage(prefix = 'AzureWebJobsStorage', env: NodeJS.ProcessEnv = process.env): Promise<StorageClients> {
  const keyParts = [prefix, env[prefix], env[`${prefix}__accountName`], env[`${prefix}__queueServiceUri`], env[`${prefix}__blobServiceUri`], env[`${prefix}__clientId`]];
  const key = keyParts.map((p) => p ?? '').join('|');
  let clients = cache.get(key);
  if (!clients) {
    clients = createStorage(prefix, env);
    cache.set(key, clients);
    clients.catch(() => cache.delete(key));
  }
  return clients;
}

async function createStorage(prefix: string, env: NodeJS.ProcessEnv): Promise<StorageClients> {
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
        queues: QueueServiceClient.fromConnectionString(resolved, { retryOptions: RETRY }),
        blobs: BlobServiceClient.fromConnectionString(resolved, { retryOptions: RETRY }),
        mode: 'connectionString',
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
    queues: new QueueServiceClient(queueUri, credential, { retryOptions: RETRY }),
    blobs: new BlobServiceClient(blobUri, credential, { retryOptions: RETRY }),
    mode: 'identity',
  };
}

/** Azurite's well-known development connection string for given ports (tests, local host). */
export function azuriteConnectionString(blobPort: number, queuePort: number, host = '127.0.0.1'): string {
  return AZURITE_DEFAULT.replace('127.0.0.1:10000', `${host}:${blobPort}`)
    .replace('127.0.0.1:10001', `${host}:${queuePort}`)
    .replace(';TableEndpoint=http://127.0.0.1:10002/devstoreaccount1', '');
}
