/**
 * Small JSON documents in a blob container with ETag optimistic concurrency: cursors, checkpoints,
 * subscription ids, journal entries, last-run records.
 * Every call has the storage deadline (ENGAGE_STORAGE_DEADLINE_MS). The container is created on
 * the first write, once per process, and again (once) when a write finds it missing; reads and
 * lists of a missing container see no documents.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { ConcurrencyError, StorageUnavailableError, isStorageUnavailable } from '../errors';
import { CreateOnce, isMissing, withDeadline, type StorageClients } from '../storage';

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
  private readonly client: ContainerClient;
  private readonly created: CreateOnce;

  constructor(
    private readonly storage: StorageClients,
    readonly containerName: string,
  ) {
    this.client = storage.blobs.getContainerClient(containerName);
    this.created = new CreateOnce(() =>
      withDeadline(storage.deadlineMs, `create container ${containerName}`, (abortSignal) =>
        this.client.createIfNotExists({ abortSignal }),
      ),
    );
  }

  private call<T>(name: string, fn: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(this.storage.deadlineMs, `${this.containerName}/${name}`, fn);
  }

  async read<T>(name: string): Promise<Versioned<T> | undefined> {
    const raw = await this.readText(name);
    return raw && { value: JSON.parse(raw.value) as T, etag: raw.etag };
  }

  /** The document's text as stored (no parsing), with its ETag. */
  async readText(name: string): Promise<Versioned<string> | undefined> {
    try {
      return await this.call(name, async (abortSignal) => {
        // One download returns body and ETag together (consistent with each other).
        const res = await this.client.getBlockBlobClient(name).download(0, undefined, { abortSignal });
        return { value: await streamToString(res.readableStreamBody), etag: res.etag! };
      });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined; // no blob, or no container
      throw wrap(err, name);
    }
  }

  /** Writes the document; returns the new ETag. Throws ConcurrencyError when the condition fails. */
  async write<T>(name: string, value: T, condition: WriteCondition = {}): Promise<string> {
    return this.writeText(name, JSON.stringify(value), condition);
  }

  /** Writes a document's text as it is (already JSON); returns the new ETag. */
  async writeText(name: string, text: string, condition: WriteCondition = {}): Promise<string> {
    const conditions = condition.ifMatch ? { ifMatch: condition.ifMatch } : condition.ifNotExists ? { ifNoneMatch: '*' } : undefined;
    for (let attempt = 1; ; attempt++) {
      const ready = this.created.ensure(this.containerName);
      try {
        await ready;
        const res = await this.call(name, (abortSignal) =>
          this.client.getBlockBlobClient(name).upload(text, Buffer.byteLength(text), {
            blobHTTPHeaders: { blobContentType: 'application/json' },
            conditions,
            abortSignal,
          }),
        );
        return res.etag!;
      } catch (err) {
        // The container went away (deleted, storage restarted empty): create it again, once.
        if (attempt === 1 && isMissing(err, 'ContainerNotFound')) {
          this.created.forget(this.containerName, ready);
          continue;
        }
        const status = (err as { statusCode?: number }).statusCode;
        if (status === 412 || status === 409) throw new ConcurrencyError(`blob "${name}" was changed by another writer`);
        throw wrap(err, name);
      }
    }
  }

  async delete(name: string, condition: { ifMatch?: string } = {}): Promise<void> {
    try {
      await this.call(name, (abortSignal) =>
        this.client
          .getBlockBlobClient(name)
          .deleteIfExists({ conditions: condition.ifMatch ? { ifMatch: condition.ifMatch } : undefined, abortSignal }),
      );
    } catch (err) {
      if (isMissing(err, 'ContainerNotFound')) return; // nothing left to delete
      if ((err as { statusCode?: number }).statusCode === 412) throw new ConcurrencyError(`blob "${name}" was changed by another writer`);
      throw wrap(err, name);
    }
  }

  /** Names of the documents under a prefix, in lexical order. */
  async list(prefix = ''): Promise<string[]> {
    try {
      return await this.call(prefix, async (abortSignal) => {
        const names: string[] = [];
        for await (const b of this.client.listBlobsFlat({ prefix, abortSignal })) names.push(b.name);
        return names.sort();
      });
    } catch (err) {
      if (isMissing(err, 'ContainerNotFound')) return [];
      throw wrap(err, prefix);
    }
  }
}

function wrap(err: unknown, name: string): unknown {
  return isStorageUnavailable(err) ? new StorageUnavailableError(`blob storage unavailable (${name})`, { cause: err }) : err;
}

async function streamToString(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
