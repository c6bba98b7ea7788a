import { loadConfig, secretValues } from '../../../shared/config/settings';
import { ConfigError } from '../../../shared/errors';

const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

test('defaults apply when only storage is set', () => {
  const c = loadConfig(base);
  expect(c.CLAIM_CHECK_CONTAINER).toBe('claim-checks');
  expect(c.CHECKPOINT_CONTAINER).toBe('checkpoints');
  expect(c.JOURNAL_CONTAINER).toBe('drain-journal');
});

test('identity-based storage settings are accepted instead of a connection string', () => {
  expect(() => loadConfig({ AzureWebJobsStorage__accountName: 'mystorageacct' })).not.toThrow();
  expect(() => loadConfig({ AzureWebJobsStorage__queueServiceUri: 'https://x.queue.core.windows.net' })).not.toThrow();
});

test('a malformed identity setting is reported by name', () => {
  expect(() => loadConfig({ AzureWebJobsStorage__accountName: 'NOT VALID!' })).toThrow(/AzureWebJobsStorage__accountName/);
});

test('empty strings count as unset', () => {
  expect(loadConfig({ ...base, CLAIM_CHECK_CONTAINER: '' }).CLAIM_CHECK_CONTAINER).toBe('claim-checks');
});

test('every problem is reported at once, by name, in one error', () => {
  let error: unknown;
  try {
    loadConfig({ CLAIM_CHECK_CONTAINER: 'Bad_Name', JOURNAL_CONTAINER: 'NOT VALID!' });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const e = error as ConfigError;
  expect(e.problems.length).toBeGreaterThanOrEqual(3);
  expect(e.message).toContain('CLAIM_CHECK_CONTAINER');
  expect(e.message).toContain('JOURNAL_CONTAINER');
  expect(e.message).toContain('storage is not configured');
  // Values are never echoed.
  expect(e.message).not.toContain('Bad_Name');
  expect(e.message).not.toContain('NOT VALID!');
});

test('enforcing signatures without a secret is refused at load', () => {
  expect(() => loadConfig({ ...base, ENGAGE_SIGNATURE_MODE: 'enforce' })).toThrow(/ENGAGE_WEBHOOK_SECRET: required/);
  expect(() => loadConfig({ ...base, ENGAGE_SIGNATURE_MODE: 'enforce', ENGAGE_WEBHOOK_SECRET: 'k-webhook-secret' })).not.toThrow();
});

test('secret values include the account key of a connection string', () => {
  const values = secretValues({
    AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0a2V5;EndpointSuffix=core.windows.net',
  });
  expect(values).toContain('c2VjcmV0a2V5');
});
