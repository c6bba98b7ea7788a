import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../../shared/errors';
import { getStorage } from '../../../shared/storage';

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

describe('a bad connection string (issue 17.9)', () => {
  const bad = ['garbage-conn-value', 'AccountName=acct;AccountKey=bad-key-value', 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=%%%bad-key;EndpointSuffix=core.windows.net'];

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
    for (const bin of [['dist/cli/index.js', 'status'], ['dist/local/host/main.js', '--port', '0']]) {
      if (!existsSync(join(root, bin[0]!))) throw new Error(`${bin[0]} is missing: run \`npm run build\` first`);
      const r = spawnSync(process.execPath, bin, { cwd: root, env: { PATH: process.env.PATH, AzureWebJobsStorage: 'AccountName=acct;AccountKey=bad-key-value' }, encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/Invalid configuration[\s\S]*AzureWebJobsStorage: is not a valid storage connection string/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stderr).not.toContain('bad-key-value');
    }
  }, 60_000);
});
