/**
 * All settings, read once through one zod schema. A missing or malformed setting fails with ONE
 * error listing every problem by setting name (values are never echoed: some are secrets).
 */
import { z } from 'zod';
import { ConfigError } from '../errors';
import { Redactor } from '../redact';
import { CONNECTION_SECRETS, coreSecrets, coreSettings, parseSettings, SECRET_MIN_LENGTH } from './core';
import { engageSecrets, engageSettings } from './engage';
import { notificationsSecrets, notificationsSettings } from './notifications';
import { noojeeSecrets, noojeeSettings } from './noojee';
import { consumerSecrets, consumerSettings } from './consumer';
import { archiveSettings } from './archive';

export const settingsSchema = z.object({
  ...coreSettings.shape,
  ...engageSettings.shape,
  ...notificationsSettings.shape,
  ...noojeeSettings.shape,
  ...consumerSettings.shape,
  ...archiveSettings.shape,
});

/** Cross-setting rules, checked even when single settings are malformed (so one error lists everything). */
function crossChecks(env: NodeJS.ProcessEnv): string[] {
  const set = (name: string) => Boolean(env[name]);
  const problems: string[] = [];
  if (!set('AzureWebJobsStorage') && !set('AzureWebJobsStorage__accountName') && !set('AzureWebJobsStorage__queueServiceUri')) {
    problems.push(
      'AzureWebJobsStorage: storage is not configured: set AzureWebJobsStorage (connection string) or AzureWebJobsStorage__accountName / AzureWebJobsStorage__queueServiceUri (managed identity)',
    );
  }
  // An app setting the platform could not resolve keeps the reference text itself: refuse to run
  // with it (naming the setting, never the value) instead of using it as a password or URL.
  for (const [name, value] of Object.entries(env)) {
    if (value && /^\s*@Microsoft\.KeyVault\(/i.test(value)) {
      problems.push(`${name}: is an unresolved Key Vault reference (check the app's identity can read the secret, then restart the app)`);
    }
  }
  for (const name of SECRET_SETTINGS) {
    const value = env[name];
    if (
      value &&
      !CONNECTION_SECRETS.includes(name) &&
      [...value].length < SECRET_MIN_LENGTH &&
      !/^\s*@Microsoft\.KeyVault\(/i.test(value)
    ) {
      problems.push(
        `${name}: is shorter than ${SECRET_MIN_LENGTH} characters; a secret this short cannot be redacted reliably from logs, so it is refused (use a longer value)`,
      );
    }
  }
  if (env.ENGAGE_SIGNATURE_MODE === 'enforce' && !set('ENGAGE_WEBHOOK_SECRET')) {
    problems.push('ENGAGE_WEBHOOK_SECRET: required when ENGAGE_SIGNATURE_MODE is "enforce"');
  }
  return problems;
}

export type Config = z.infer<typeof settingsSchema>;

/** Names of settings whose values are secrets: never logged, redacted from error text. */
export const SECRET_SETTINGS: readonly string[] = [
  ...coreSecrets,
  ...engageSecrets,
  ...notificationsSecrets,
  ...noojeeSecrets,
  ...consumerSecrets,
];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const extra = crossChecks(env);
  try {
    const config = parseSettings(settingsSchema, env);
    if (extra.length) throw new ConfigError(extra);
    return config;
  } catch (err) {
    if (err instanceof ConfigError && extra.length && !extra.every((p) => err.problems.includes(p))) {
      throw new ConfigError([...err.problems, ...extra.filter((p) => !err.problems.includes(p))]);
    }
    throw err;
  }
}

let cached: { env: NodeJS.ProcessEnv; config: Config } | undefined;

/** The process's configuration, parsed once. */
export function getConfig(): Config {
  if (!cached || cached.env !== process.env) cached = { env: process.env, config: loadConfig(process.env) };
  return cached.config;
}

/** Forget the cached configuration (tests and the local host change settings between runs). */
export function resetConfig(): void {
  cached = undefined;
}

/** Redacts the configured secrets (and credential-shaped fields) from text bound for a log, a saved run or CLI output. */
export function secretRedactor(env: NodeJS.ProcessEnv = process.env): Redactor {
  return new Redactor(secretValues(env));
}

/** Values of configured secrets (non-empty), to redact from any text that may reach a log. */
export function secretValues(env: NodeJS.ProcessEnv = process.env): string[] {
  const values: string[] = [];
  for (const name of SECRET_SETTINGS) {
    const v = env[name];
    if (v && v.length >= 4) values.push(v);
    // Connection strings: the AccountKey part alone is the secret.
    if (v && name === 'AzureWebJobsStorage') {
      const key = /AccountKey=([^;]+)/i.exec(v)?.[1];
      if (key) values.push(key);
    }
  }
  return values;
}
