import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { getStorage } from './storage';
import { version } from './version';

/** Reports version and whether queue storage answers (503 when it does not, so probes notice). */
export async function checkHealth(context: InvocationContext): Promise<HttpResponseInit> {
  const started = Date.now();
  let storage: { reachable: boolean; latencyMs?: number; error?: string };
  try {
    const clients = await getStorage();
    await clients.queues.getProperties({ abortSignal: AbortSignal.timeout(5000) });
    storage = { reachable: true, latencyMs: Date.now() - started };
  } catch (err) {
    const e = err as { code?: string; statusCode?: number; name?: string };
    storage = { reachable: false, error: e.code ?? (e.statusCode ? `HTTP ${e.statusCode}` : e.name ?? 'unknown error') };
    context.warn(`health: queue storage unreachable (${storage.error})`);
  }
  return {
    status: storage.reachable ? 200 : 503,
    jsonBody: { status: storage.reachable ? 'ok' : 'degraded', version, node: process.version, storage },
  };
}
