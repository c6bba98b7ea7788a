import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../shared/config/settings';
import { ConfigError, StorageUnavailableError } from '../../../shared/errors';
import { CreateOnce, getStorage, isMissing, storageDeadlineMs, untilAborted, withDeadline } from '../../../shared/storage';

test('identity-based settings build clients on the account URLs (no key involved)', async () => {
  const s = await getStorage('MyConn', { MyConn__accountName: 'acct123', MyConn__clientId: '00000000-0000-0000-0000-000000000001' });
  expect(s.mode).toBe('identity');
  expect(s.queues.url).toMatch(/^https:\/\/acct123\.queue\.core\.windows\.net\/?$/);
  expect(s.blobs.url).toMatch(/^https:\/\/acct123\.blob\.core\.windows\.net\/?$/);
});

test('explicit service URIs win over the account name', async () => {
  const s = await getStorage('Other', { Other__queueServiceUri: 'https://q.example.net', Other__blobServiceUri: 'https://b.example.net' });
  expect(s.queues.url).toMatch(/^https:\/\/q\.example\.net/);
  expect(s.blobs.url).toMatch(/^https:\/\/b\.example\.net/);
});

test('UseDevelopmentStorage=true points at Azurite', async () => {
  const s = await getStorage('Dev', { Dev: 'UseDevelopmentStorage=true' });
  expect(s.mode).toBe('connectionString');
  expect(s.queues.url).toContain('127.0.0.1:10001/devstoreaccount1');
});

test('missing settings give a clear error naming them', async () => {
  await expect(getStorage('Nothing', {})).rejects.toThrow(/Nothing__accountName/);
});

describe('storage deadline', () => {
  test('ENGAGE_STORAGE_DEADLINE_MS: 10 s by default, validated by the settings schema', async () => {
    expect(storageDeadlineMs({})).toBe(10_000);
    expect(storageDeadlineMs({ ENGAGE_STORAGE_DEADLINE_MS: '1500' })).toBe(1500);
    expect(() => storageDeadlineMs({ ENGAGE_STORAGE_DEADLINE_MS: 'soon' })).toThrow(ConfigError);
    expect(() => storageDeadlineMs({ ENGAGE_STORAGE_DEADLINE_MS: '5' })).toThrow(/ENGAGE_STORAGE_DEADLINE_MS/);
    expect(() => loadConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', ENGAGE_STORAGE_DEADLINE_MS: '-1' })).toThrow(
      /ENGAGE_STORAGE_DEADLINE_MS/,
    );
    expect((await getStorage('Deadline', { Deadline: 'UseDevelopmentStorage=true', ENGAGE_STORAGE_DEADLINE_MS: '2500' })).deadlineMs).toBe(
      2500,
    );
  });

  test('withDeadline: a call that never answers is abandoned at the deadline, its signal aborted', async () => {
    let seen: AbortSignal | undefined;
    const started = Date.now();
    const hung = withDeadline(50, 'test call', (signal) => {
      seen = signal;
      return new Promise<never>(() => undefined); // ignores the signal, as a stuck call might
    });
    await expect(hung).rejects.toThrow(StorageUnavailableError);
    await expect(hung).rejects.toThrow('storage did not answer within the deadline (test call)');
    expect(seen?.aborted).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  test('withDeadline: answers and other errors pass through; an outer signal ends the call early', async () => {
    await expect(withDeadline(1000, 'ok', async () => 42)).resolves.toBe(42);
    await expect(withDeadline(1000, 'bad', async () => Promise.reject(new RangeError('not storage')))).rejects.toThrow(RangeError);
    const outer = new AbortController();
    const call = withDeadline(
      60_000,
      'outer',
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted by the SDK')))),
      outer.signal,
    );
    outer.abort();
    await expect(call).rejects.toThrow(StorageUnavailableError);
    await expect(untilAborted(new Promise(() => undefined), outer.signal, 'shared creation')).rejects.toThrow(StorageUnavailableError);
  });
});

describe('CreateOnce', () => {
  test('concurrent callers share one creation; after a missing-resource error, one new creation', async () => {
    const created: string[] = [];
    const once = new CreateOnce(async (name) => void created.push(name));
    const first = once.ensure('q');
    await Promise.all([first, once.ensure('q'), once.ensure('q'), once.ensure('other')]);
    expect(created).toEqual(['q', 'other']);
    // Three callers saw the same 404: only the first forget counts.
    once.forget('q', first);
    const second = once.ensure('q');
    once.forget('q', first);
    once.forget('q', first);
    await Promise.all([second, once.ensure('q')]);
    expect(created).toEqual(['q', 'other', 'q']);
  });

  test('a failed creation is tried again by the next caller', async () => {
    let calls = 0;
    const once = new CreateOnce(async () => {
      if (++calls === 1) throw new Error('storage down');
    });
    await expect(once.ensure('q')).rejects.toThrow('storage down');
    await expect(once.ensure('q')).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });

  test('isMissing tells a missing queue or container from other 404s', () => {
    expect(isMissing({ statusCode: 404, code: 'QueueNotFound' }, 'QueueNotFound')).toBe(true);
    expect(isMissing({ statusCode: 404, details: { errorCode: 'ContainerNotFound' } }, 'ContainerNotFound')).toBe(true);
    expect(isMissing({ statusCode: 404, code: 'BlobNotFound' }, 'ContainerNotFound')).toBe(false);
    expect(isMissing({ statusCode: 409, code: 'QueueBeingDeleted' }, 'QueueNotFound')).toBe(false);
  });
});

describe('a bad connection string (issue 17.9)', () => {
  const bad = [
    'garbage-conn-value',
    'AccountName=acct;AccountKey=bad-key-value',
    'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=%%%bad-key;EndpointSuffix=core.windows.net',
  ];

  test.each(bad)('the storage factory answers a ConfigError naming the setting, not the value: %s', async (value) => {
    const err = await getStorage('BadConn', { BadConn: value }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/BadConn: is not a valid storage connection string/);
    expect((err as Error).message).not.toContain(value);
    expect((err as Error).message).not.toMatch(/bad-key/);
  });

  test('the CLI and the local host print the ConfigError, no stack trace', async () => {
    const root = join(__dirname, '..', '..', '..');
    for (const bin of [
      ['dist/cli/index.js', 'status'],
      ['dist/local/host/main.js', '--port', '0'],
    ]) {
      if (!existsSync(join(root, bin[0]))) throw new Error(`${bin[0]} is missing: run \`npm run build\` first`);
      const r = spawnSync(process.execPath, bin, {
        cwd: root,
        env: { PATH: process.env.PATH, AzureWebJobsStorage: 'AccountName=acct;AccountKey=bad-key-value' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/Invalid configuration[\s\S]*AzureWebJobsStorage: is not a valid storage connection string/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stderr).not.toContain('bad-key-value');
    }
  }, 60_000);
});
