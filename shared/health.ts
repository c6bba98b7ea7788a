import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { getConfig } from './config/settings';
import { ConfigError } from './errors';
import { getStorage } from './storage';
import { version } from './version';

/**
 * Reports version, whether the settings load and whether queue storage answers (503 when either
 * fails, so probes and the deploy workflow's health wait notice).
 *
 * Storage is probed with List Queues (one entry): its permission,
 * `Microsoft.Storage/storageAccounts/queueServices/queues/read`, is in Storage Queue Data Contributor,
 * the app's queue role. (Get Queue Service Properties needs `queueServices/read`, which no queue data
 * role grants: test/unit/infra/rbac.test.ts checks every storage call against the granted roles.)
 */
export async function checkHealth(context: InvocationContext): Promise<HttpResponseInit> {
  const config = settingsProblems();
  if (config.length) context.warn(`health: settings do not load: ${config.join(', ')}`);
  const started = Date.now();
  let storage: { reachable: boolean; latencyMs?: number; error?: string };
  try {
    const clients = await getStorage();
    await clients.queues
      .listQueues({ abortSignal: AbortSignal.timeout(5000) })
      .byPage({ maxPageSize: 1 })
      .next();
    storage = { reachable: true, latencyMs: Date.now() - started };
  } catch (err) {
    const e = err as { code?: string; statusCode?: number; name?: string };
    storage = { reachable: false, error: e.code ?? (e.statusCode ? `HTTP ${e.statusCode}` : (e.name ?? 'unknown error')) };
    context.warn(`health: queue storage unreachable (${storage.error})`);
  }
  const ok = storage.reachable && config.length === 0;
  return {
    status: ok ? 200 : 503,
    jsonBody: {
      status: ok ? 'ok' : 'degraded',
      version,
      node: process.version,
      storage,
      ...(config.length ? { invalidSettings: config } : {}),
    },
  };
}

/** Names of the settings the app refuses (ConfigError problems start with the name; values never appear). */
function settingsProblems(): string[] {
  try {
    getConfig();
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...new Set(err.problems.map((p) => p.slice(0, p.indexOf(':')) || p))];
    throw err;
  }
}
