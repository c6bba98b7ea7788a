/** Test settings for the webhook: replaces every ENGAGE_* variable, then forgets cached config/state. */
import { resetConfig } from '../../../shared/config/settings';
import { resetWebhook } from '../../../shared/engage/webhook';

export function configureWebhook(connectionString: string, settings: Record<string, string> = {}): void {
  for (const k of Object.keys(process.env)) if (k.startsWith('ENGAGE_')) delete process.env[k];
  process.env.AzureWebJobsStorage = connectionString;
  Object.assign(process.env, settings);
  resetConfig();
  resetWebhook();
}
