/** Builds the Noojee client and poll options from the parsed settings. */
import type { Config } from '../config/settings';
import { ConfigError } from '../errors';
import { NoojeeClient, type NoojeeClientOptions } from './client';

/** Noojee is optional: both NOOJEE_BASE_URL and NOOJEE_API_KEY turn it on. */
export function isNoojeeConfigured(config: Config): boolean {
  return Boolean(config.NOOJEE_BASE_URL && config.NOOJEE_API_KEY);
}

/** Why Noojee is off, naming the missing settings (for the one log line of a no-op run). */
export function notConfiguredReason(config: Config): string {
  const missing = [!config.NOOJEE_BASE_URL && 'NOOJEE_BASE_URL', !config.NOOJEE_API_KEY && 'NOOJEE_API_KEY'].filter(Boolean);
  return `Noojee is not configured (${missing.join(' and ')} not set)`;
}

export function createNoojeeClient(config: Config, onWarning?: NoojeeClientOptions['onWarning']): NoojeeClient {
  if (!config.NOOJEE_BASE_URL || !config.NOOJEE_API_KEY) throw new ConfigError([notConfiguredReason(config)]);
  return new NoojeeClient({
    baseUrl: config.NOOJEE_BASE_URL,
    apiKey: config.NOOJEE_API_KEY,
    timeoutMarginMs: config.NOOJEE_HTTP_TIMEOUT_MARGIN_MS,
    onWarning,
  });
}

/** The monitored extensions; a clear error when Noojee is on but none are configured. */
export function monitoredExtensions(config: Config): string[] {
  if (!config.NOOJEE_EXTENSIONS || config.NOOJEE_EXTENSIONS.length === 0) {
    throw new ConfigError(['NOOJEE_EXTENSIONS: required when Noojee is configured (comma-separated extensions to monitor, e.g. 400,410)']);
  }
  return config.NOOJEE_EXTENSIONS;
}
