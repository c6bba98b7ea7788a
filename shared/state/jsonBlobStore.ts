/**
 * Small JSON documents in a blob container with ETag optimistic concurrency: cursors, checkpoints,
 * subscription ids, journal entries, last-run records.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { ConcurrencyError, StorageUnavailableError, isStorageUnavailable } from '../errors';
import type { StorageClients } from '../storage';

export interface Versioned<T> {
  value: T;
  etag: string;
}

export interface WriteCondition {
  /** Write only if the blob still has this ETag. */
  ifMatch?: string;
  /** Write only if the blob does not exist yet. */
  ifNotExists?: boolean;
}

export class JsonBlobStore {
  private ready?: Promise<ContainerClient>;

  constructor(
    private readonly storage: StorageClients,
    readonly containerName: string,
  ) {}

  private container(): Promise<ContainerClient> {
    if (!this.ready) {
      const c = this.storage.blobs.getContainerClient(this.containerName);
      this.ready = c.createIfNotExists().then(() => c);
      this.ready.catch(() => (this.ready = undefined));
    }
    return this.ready;
  }

  async read<T>(name: string): Promise<Versioned<T> | undefined> {
    try {
      // One download returns body and ETag together (consistent with each other).
      const res = await (await this.container()).getBlockBlobClient(name).download();
      const text = await streamToString(res.readableStreamBody);
      return { value: JSON.parse(text) as T, etag: res.etag! };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw wrap(err, name);
    }
  }

  /** Writes the document; returns the new ETag. Throws ConcurrencyError when the condition fails. */
  async write<T>(name: string, value: T, condition: WriteCondition = {}): Promise<string> {
    const text = JSON.stringify(value);
    try {
      const res = await (await this.container()).getBlockBlobClient(name).upload(text, Buffer.byteLength(text), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
        conditions: condition.ifMatch ? { ifMatch: condition.ifMatch } : condition.ifNotExists ? { ifNoneMatch: '*' } : undefined,
      });
      return res.etag!;
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 412 || status === 409) throw new ConcurrencyError(`blob "${name}" was changed by another writer`);
      throw wrap(err, name);
    }
  }

  async delete(name: string, condition: { ifMatch?: string } = {}): Promise<void> {
    try {
      await (await this.container()).getBlockBlobClient(name).deleteIfExists({ conditions: condition.ifMatch ? { ifMatch: condition.ifMatch } : undefined });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 412) throw new ConcurrencyError(`blob "${name}" was changed by another writer`);
      throw wrap(err, name);
    }
  }

  /** Names of the documents under a prefix, in lexical order. */
  async list(prefix = ''): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const b of (await this.container()).listBlobsFlat({ prefix })) names.push(b.name);
    } catch (err) {
      throw wrap(err, prefix);
    }
    return names.sort();
  }
}

function wrap(err: unknown, name: string): unknown {
  return isStorageUnavailable(err) ? new StorageUnavailableError(`blob storage unavailable (${name})`, { cause: err }) : err;
}

async function streamToString(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
