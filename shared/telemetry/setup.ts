/**
 * Starts OpenTelemetry for the process:
 * - `APPLICATIONINSIGHTS_CONNECTION_STRING` set → traces, metrics and logs to Application Insights through the
 *   Azure Monitor exporters (openTelemetrySdk.ts: outgoing HTTP and Azure SDK dependencies, and
 *   `AzureFunctionsInstrumentation`, which continues the host's trace context in each invocation and sends its
 *   logs). Ingestion authenticates with Microsoft Entra ID when `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` is
 *   `Authorization=AAD` (`;ClientId=<user-assigned identity>` as infra/main.bicep sets it; system-assigned otherwise).
 * - no connection string, `OTEL_TRACES_EXPORTER=console` and/or `OTEL_METRICS_EXPORTER=console` → the same SDK
 *   printing spans / metrics to stdout (`npm start` on a laptop).
 * - otherwise off: nothing is loaded (the SDK is required only when on, so the cold start of the app does not
 *   pay for it), and the API's no-op tracer and meter are used.
 * It must run before `@azure/functions` is first required (the instrumentation patches it on load): the app's
 * entry imports `./register` first.
 */
import type { TokenCredential } from '@azure/identity';
import type * as OpenTelemetrySdk from './openTelemetrySdk';

export type TelemetryMode = 'off' | 'azure-monitor' | 'console';

let running: { mode: TelemetryMode; shutdown: () => Promise<void> } | undefined;

/** Which mode the settings ask for. */
export function telemetryMode(env: NodeJS.ProcessEnv = process.env): TelemetryMode {
  if (env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim()) return 'azure-monitor';
  if (env.OTEL_TRACES_EXPORTER?.trim() === 'console' || env.OTEL_METRICS_EXPORTER?.trim() === 'console') return 'console';
  return 'off';
}

/**
 * The credential `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` asks for (the App Service / Functions
 * convention `Authorization=AAD;ClientId=<client id>`), or undefined (instrumentation-key ingestion).
 */
export function ingestionCredential(env: NodeJS.ProcessEnv = process.env): TokenCredential | undefined {
  const text = env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING?.trim();
  if (!text) return undefined;
  const parts = new Map(
    text
      .split(';')
      .filter((p) => p.includes('='))
      .map((p) => [p.slice(0, p.indexOf('=')).trim().toLowerCase(), p.slice(p.indexOf('=') + 1).trim()] as const),
  );
  if (parts.get('authorization')?.toUpperCase() !== 'AAD') {
    throw new Error('APPLICATIONINSIGHTS_AUTHENTICATION_STRING must be "Authorization=AAD" or "Authorization=AAD;ClientId=<client id>"');
  }
  return new IngestionManagedIdentity(parts.get('clientid'));
}

/**
 * The managed identity (user-assigned when `clientId` is given), made on the first token request: the exporter asks
 * for one at its first export, seconds after start, so `@azure/identity` is not loaded at cold start.
 */
export class IngestionManagedIdentity implements TokenCredential {
  private credential: TokenCredential | undefined;
  constructor(readonly clientId?: string) {}
  getToken(...args: Parameters<TokenCredential['getToken']>): ReturnType<TokenCredential['getToken']> {
    if (!this.credential) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use: cold start stays cheap
      const { ManagedIdentityCredential } = require('@azure/identity') as typeof import('@azure/identity');
      this.credential = this.clientId ? new ManagedIdentityCredential({ clientId: this.clientId }) : new ManagedIdentityCredential();
    }
    return this.credential.getToken(...args);
  }
}

/**
 * Starts telemetry once per process (later calls return the running mode). A setup failure (e.g. a
 * malformed APPLICATIONINSIGHTS_AUTHENTICATION_STRING) is reported on stderr and leaves telemetry
 * off: it must never stop the app from landing events.
 */
export function startTelemetry(env: NodeJS.ProcessEnv = process.env): TelemetryMode {
  if (running) return running.mode;
  const mode = telemetryMode(env);
  try {
    running = { mode, shutdown: start(mode, env) };
  } catch (err) {
    // The SDK's message may quote the connection or authentication string: redact both.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use: cold start stays cheap
    const { Redactor } = require('../redact') as typeof import('../redact');
    const redactor = new Redactor([env.APPLICATIONINSIGHTS_CONNECTION_STRING, env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING]);
    process.stderr.write(`telemetry: off, setup failed: ${redactor.text(err instanceof Error ? err.message : String(err))}\n`);
    running = { mode: 'off', shutdown: () => Promise.resolve() };
  }
  return running.mode;
}

/** Starts what `mode` needs; returns its shutdown. */
function start(mode: TelemetryMode, env: NodeJS.ProcessEnv): () => Promise<void> {
  if (mode === 'off') return () => Promise.resolve();
  const credential = mode === 'azure-monitor' ? ingestionCredential(env) : undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use: cold start stays cheap (bundled as dist/app/telemetry.js)
  const { startOpenTelemetrySdk } = require('./openTelemetrySdk') as typeof OpenTelemetrySdk;
  return startOpenTelemetrySdk({
    exportTo:
      mode === 'azure-monitor'
        ? { azureMonitor: { connectionString: env.APPLICATIONINSIGHTS_CONNECTION_STRING!.trim(), ...(credential ? { credential } : {}) } }
        : { console: { traces: env.OTEL_TRACES_EXPORTER?.trim() === 'console', metrics: env.OTEL_METRICS_EXPORTER?.trim() === 'console' } },
    defaultServiceName: 'engage-bridge',
    metricExportIntervalMs: Number(env.OTEL_METRIC_EXPORT_INTERVAL) || 60_000,
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the copy the app's Azure SDK clients use (see openTelemetrySdk.ts)
    coreTracing: require('@azure/core-tracing') as typeof import('@azure/core-tracing'),
  });
}

/** Flushes and stops what startTelemetry started (host shutdown). */
export async function stopTelemetry(): Promise<void> {
  const r = running;
  running = undefined;
  await r?.shutdown();
}
