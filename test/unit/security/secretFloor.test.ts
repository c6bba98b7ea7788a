/** Issue 20.3: a secret setting shorter than SECRET_MIN_LENGTH is refused at load, named, never echoed. */
import { loadConfig, SECRET_SETTINGS } from '../../../shared/config/settings';
import { SECRET_MIN_LENGTH } from '../../../shared/config/core';
import { ConfigError } from '../../../shared/errors';

const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

test('every secret setting shorter than the floor is refused, each named, its value never in the message', () => {
  const short = 'Ab3$xY7'; // 7 characters
  expect(short.length).toBe(SECRET_MIN_LENGTH - 1);
  const env: Record<string, string> = { ...base };
  const named = SECRET_SETTINGS.filter((n) => n !== 'AzureWebJobsStorage');
  for (const name of named) env[name] = short;
  let error: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as Error).message;
  for (const name of named) expect(message).toContain(`${name}: is shorter than ${SECRET_MIN_LENGTH} characters`);
  expect(message.toLowerCase()).not.toContain(short.toLowerCase());
});

test('a secret at the floor is accepted; a Key Vault reference or the storage connection string is not measured', () => {
  expect(() => loadConfig({ ...base, NOOJEE_API_KEY: 'a'.repeat(SECRET_MIN_LENGTH) })).not.toThrow();
  expect(() => loadConfig({ ...base, ENGAGE_PASSWORD: '@Microsoft.KeyVault(x)' })).toThrow(
    /ENGAGE_PASSWORD: is an unresolved Key Vault reference/,
  );
  expect(() => loadConfig({ ...base, ENGAGE_PASSWORD: '@Microsoft.KeyVault(x)' })).not.toThrow(/shorter than/);
});
