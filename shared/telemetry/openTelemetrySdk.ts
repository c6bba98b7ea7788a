/**
 * The OpenTelemetry SDK as this app uses it, composed from its parts instead of the Azure Monitor distro
 * (`@azure/monitor-opentelemetry`), which loads ~2,200 modules (the Node SDK, OTLP / Prometheus / Zipkin
 * exporters, MongoDB / MySQL / PostgreSQL / Redis / Bunyan / Winston instrumentations) for nothing here.
 * What the app emits is what the distro emitted, through the same Azure Monitor exporters: spans (ours, the Azure
 * SDK's with their HTTP calls, one per invocation), metrics and invocation logs, with the resource the distro
 * detects on Azure Functions (`service.name` = the site name → the cloud role in Application Insights); plus one
 * span per upstream API call (they use fetch, which the distro does not instrument), and minus the second span the
 * distro's HTTP instrumentation added to each Azure SDK call.
 *
 * Loaded only when telemetry is on (setup.ts). The build bundles it with its dependencies into
 * `dist/app/telemetry.js` (scripts/bundle-app.mjs): one file to read instead of ~800 modules.
 */
import { metrics } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import type { TokenCredential } from '@azure/identity';
import { AzureMonitorLogExporter, AzureMonitorMetricExporter, AzureMonitorTraceExporter } from '@azure/monitor-opentelemetry-exporter';
import { AzureFunctionsInstrumentation } from '@azure/functions-opentelemetry-instrumentation';
import { AzureSdkInstrumentation } from '@azure/opentelemetry-instrumentation-azure-sdk';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { azureFunctionsDetector } from '@opentelemetry/resource-detector-azure';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';

export interface OpenTelemetrySdkOptions {
  /** Azure Monitor (Application Insights) or the console (spans and/or metrics printed to stdout). */
  exportTo:
    { azureMonitor: { connectionString: string; credential?: TokenCredential } } | { console: { traces: boolean; metrics: boolean } };
  /** `service.name` when neither OTEL_SERVICE_NAME nor the Azure Functions site name gives one. */
  defaultServiceName: string;
  /** OTEL_METRIC_EXPORT_INTERVAL (ms). */
  metricExportIntervalMs: number;
  /**
   * The `@azure/core-tracing` module the app's Azure SDK clients use. Its tracing bridge is installed on it
   * directly (as the distro does when the module is already loaded), so Azure SDK spans do not depend on a
   * require hook seeing that module load: in the bundle it never goes through `require`.
   */
  coreTracing: { useInstrumenter(instrumenter: unknown): void };
}

/**
 * Outgoing requests the HTTP instrumentation leaves alone: the exporter's own (its user agent, as the distro matches
 * them) and its instance-metadata lookups; and every other Azure SDK request (user agent `azsdk-js-…`), which the
 * SDK's tracing bridge already records as a dependency with its URL and status (a second span per Storage call
 * would double what Application Insights ingests for nothing).
 */
function notTracedAsHttp(request: { headers?: unknown; host?: string | null; hostname?: string | null }): boolean {
  const headers = request.headers && !Array.isArray(request.headers) ? (request.headers as Record<string, unknown>) : {};
  const value = headers['user-agent'] ?? headers['User-Agent'];
  const agent = typeof value === 'string' ? value : Array.isArray(value) ? value.join(' ') : '';
  return agent.includes('azsdk-js-') || (request.hostname ?? request.host) === '169.254.169.254';
}

/** Starts the providers and instrumentations; returns the function that flushes and stops them. */
export function startOpenTelemetrySdk(options: OpenTelemetrySdkOptions): () => Promise<void> {
  const resource = resourceFromAttributes({ 'service.name': options.defaultServiceName }).merge(
    // Later detectors win: the Azure Functions site name, then the user's OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES.
    detectResources({ detectors: [azureFunctionsDetector, envDetector] }),
  );
  const azure = 'azureMonitor' in options.exportTo ? options.exportTo.azureMonitor : undefined;
  const toConsole = 'console' in options.exportTo ? options.exportTo.console : undefined;
  const exporterOptions = azure
    ? { connectionString: azure.connectionString, ...(azure.credential ? { credential: azure.credential } : {}) }
    : {};

  const spanProcessors: SpanProcessor[] = [];
  if (azure) spanProcessors.push(new BatchSpanProcessor(new AzureMonitorTraceExporter(exporterOptions)));
  else if (toConsole?.traces) spanProcessors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  // The global tracer provider, the AsyncLocalStorage context manager and the W3C trace-context propagator.
  tracerProvider.register();

  let metricExporter: PushMetricExporter | undefined;
  if (azure) metricExporter = new AzureMonitorMetricExporter(exporterOptions);
  else if (toConsole?.metrics) metricExporter = new ConsoleMetricExporter();
  const meterProvider = new MeterProvider({
    resource,
    readers: metricExporter
      ? [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: options.metricExportIntervalMs })]
      : [],
  });
  metrics.setGlobalMeterProvider(meterProvider);

  // Invocation logs (context.log) go to Application Insights' traces table; on the console the host prints them.
  const logProcessors: LogRecordProcessor[] = azure
    ? [new BatchLogRecordProcessor({ exporter: new AzureMonitorLogExporter(exporterOptions) })]
    : [];
  const loggerProvider = new LoggerProvider({ resource, processors: logProcessors });
  logs.setGlobalLoggerProvider(loggerProvider);

  const azureSdk = new AzureSdkInstrumentation();
  const instrumentations: Instrumentation[] = [
    // The upstream APIs (Engage, Notification API, Noojee) are called with fetch: one dependency per call.
    new UndiciInstrumentation(),
    // Outgoing node:http; Storage and the exporter are left to their own spans (above).
    new HttpInstrumentation({ ignoreOutgoingRequestHook: notTracedAsHttp }),
    azureSdk,
    // Continues the host's trace context in each invocation and sends its logs through OpenTelemetry.
    new AzureFunctionsInstrumentation(),
  ];
  registerInstrumentations({ instrumentations, tracerProvider, meterProvider, loggerProvider });
  for (const definition of azureSdk.getModuleDefinitions()) {
    if (definition.name === '@azure/core-tracing') definition.patch?.(options.coreTracing);
  }

  // Flushes what is buffered and stops exporting. The instrumentations stay in place: the worker is stopping,
  // and AzureFunctionsInstrumentation cannot be disabled once the app has started (app.setup is closed).
  return async () => {
    await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()]);
  };
}
