/**
 * A Key Vault reference Azure could not resolve reaches the app as its own text
 * (`@Microsoft.KeyVault(...)`). The app refuses it at start with a ConfigError naming the setting
 * (never the value), and /api/health answers 503 naming it, so the deploy workflow's health wait fails.
 */
import type { InvocationContext } from '@azure/functions';
import { loadConfig, resetConfig } from '../../../shared/config/settings';
import { ConfigError } from '../../../shared/errors';
import { checkHealth } from '../../../shared/health';

const REFERENCE = '@Microsoft.KeyVault(VaultName=kv-abc;SecretName=engage-password)';
const STORAGE = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

test('loadConfig refuses an unresolved Key Vault reference, naming the setting but not the value', () => {
  let error: unknown;
  try {
    loadConfig({ ...STORAGE, ENGAGE_PASSWORD: REFERENCE, NOOJEE_API_KEY: ` ${REFERENCE.toLowerCase()}` });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const problems = (error as ConfigError).problems;
  expect(problems.filter((p) => /unresolved Key Vault reference/.test(p)).map((p) => p.split(':')[0])).toEqual([
    'ENGAGE_PASSWORD',
    'NOOJEE_API_KEY',
  ]);
  expect((error as Error).message).not.toMatch(/kv-abc|SecretName/i);
  // A value that merely mentions it is not a reference.
  expect(() => loadConfig({ ...STORAGE, ENGAGE_PASSWORD: 'p@Microsoft.KeyVault(x)' })).not.toThrow();
});

test('/api/health answers 503 naming the unresolved setting, without its value', async () => {
  const saved = process.env;
  const warnings: string[] = [];
  const context = { warn: (m: string) => warnings.push(m) } as unknown as InvocationContext;
  try {
    // Storage on a closed port: the answer is 503 either way; the body must name the setting.
    process.env = {
      PATH: saved.PATH,
      AzureWebJobsStorage:
        'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1',
      ENGAGE_PASSWORD: REFERENCE,
    };
    resetConfig();
    const res = await checkHealth(context);
    expect(res.status).toBe(503);
    const body = res.jsonBody as { status: string; invalidSettings?: string[] };
    expect(body.status).toBe('degraded');
    expect(body.invalidSettings).toEqual(['ENGAGE_PASSWORD']);
    expect(JSON.stringify(body) + warnings.join('\n')).not.toMatch(/kv-abc|SecretName/);
  } finally {
    process.env = saved;
    resetConfig();
  }
});
