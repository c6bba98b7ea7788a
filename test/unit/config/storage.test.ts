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
