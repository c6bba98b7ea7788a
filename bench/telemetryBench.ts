/**
 * `npm run bench -- --only telemetry` (not in the default run): the webhook through the local host with
 * telemetry on, APPLICATIONINSIGHTS_CONNECTION_STRING pointing at a stand-in ingestion endpoint (HTTPS, the
 * exporter refuses anything else; the test fixture's self-signed certificate, trusted by the host through
 * NODE_EXTRA_CA_CERTS) that counts the uncompressed JSON of every envelope the Azure Monitor exporters send.
 * Reports what Application Insights would ingest per event (requests, dependencies, logs, exceptions) and per
 * minute (metrics, exported periodically whatever the traffic), and the host's peak RSS with telemetry on:
 * the figures `npm run cost` and the instanceMemoryMB choice need (docs/cost.md).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runLoad, type PreparedRequest } from './load';
import { webhookBodies } from './payloads';
import { distFile, projectRoot, startService } from './processes';
import { hostSettings, WEBHOOK_PATH } from './webhookBench';

export interface TelemetryBenchOptions {
  connectionString: string;
  connections: number;
  durationSeconds: number;
  log: (line: string) => void;
}

export interface TelemetryBenchResult {
  connections: number;
  durationSeconds: number;
  /** Webhook requests answered 2xx one at a time (C=1; one event each). */
  events: number;
  allAnswered2xx: boolean;
  /** Envelopes and their uncompressed JSON bytes, by base type (RequestData, RemoteDependencyData, ...). */
  items: Record<string, number>;
  bytes: Record<string, number>;
  /** Dependency envelopes by name (what the per-event bytes are made of). */
  dependencies: Record<string, number>;
  /** Everything but metrics (the resource envelope of each trace batch included), ÷ events: what one event adds (C=1). */
  itemsPerEvent: number;
  bytesPerEvent: number;
  /** The same under the bench's C (archive appends grouped: fewer dependencies per event). */
  eventsUnderLoad: number;
  bytesPerEventUnderLoad: number;
  /**
   * Metric envelopes' bytes per export: the series the run created, sent once a minute (OTEL_METRIC_EXPORT_INTERVAL
   * 60 s) while an instance lives; a short run has one export, at its end.
   */
  metricBytesPerExport: number;
  /** A timer run that finds nothing to do (notificationsDrain, not configured): runs seen and bytes per run, metrics aside. */
  timerRuns: number;
  bytesPerTimerRun: number;
  /** Peak RSS of the host (worker + the local host in one process) with telemetry on, under the webhook load, KiB. */
  hostPeakRssKb?: number;
}

interface Tally {
  items: Record<string, number>;
  bytes: Record<string, number>;
  dependencies: Record<string, number>;
  /** Export requests that carried metrics. */
  metricExports: number;
  /** Runs of the idle timer (its one log line each). */
  timerRuns: number;
}

interface Envelope {
  data?: { baseType?: string; baseData?: { name?: string; message?: string; metrics?: { name?: string }[] } };
}

const newTally = (): Tally => ({ items: {}, bytes: {}, dependencies: {}, metricExports: 0, timerRuns: 0 });
const add = (r: Record<string, number>, key: string, n: number) => (r[key] = (r[key] ?? 0) + n);
const sumBut = (r: Record<string, number>, except: string) => Object.entries(r).reduce((n, [k, v]) => n + (k === except ? 0 : v), 0);

export async function benchTelemetry(options: TelemetryBenchOptions): Promise<TelemetryBenchResult> {
  const { log } = options;
  let tally = newTally();
  const tls = join(projectRoot(), 'test', 'fixtures', 'tls');
  const ingestion = createServer(
    { cert: readFileSync(join(tls, 'localhost.crt')), key: readFileSync(join(tls, 'localhost.key')) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let accepted = 0;
        if (req.url?.startsWith('/v2.1/track')) {
          const body = Buffer.concat(chunks);
          const parsed = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8')) as unknown;
          let metrics = false;
          for (const envelope of (Array.isArray(parsed) ? parsed : [parsed]) as Envelope[]) {
            const baseData = envelope.data?.baseData;
            // The exporter sends its resource as a metric with every trace batch: per-event overhead, not a metric series.
            const type = baseData?.metrics?.[0]?.name === '_OTELRESOURCE_' ? 'ResourceMetric' : (envelope.data?.baseType ?? 'unknown');
            add(tally.items, type, 1);
            add(tally.bytes, type, Buffer.byteLength(JSON.stringify(envelope)));
            if (type === 'RemoteDependencyData') add(tally.dependencies, baseData?.name ?? '?', 1);
            if (type === 'MessageData' && /^notifications drain: off/.test(baseData?.message ?? '')) tally.timerRuns++;
            metrics ||= type === 'MetricData';
            accepted++;
          }
          if (metrics) tally.metricExports++;
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ itemsReceived: accepted, itemsAccepted: accepted, errors: [] }));
      });
    },
  );
  await new Promise<void>((resolve) => ingestion.listen(0, '127.0.0.1', resolve));
  const port = (ingestion.address() as { port: number }).port;
  const secret = randomBytes(24).toString('base64url');
  const functionKey = randomBytes(24).toString('base64url');
  const telemetryEnv = {
    APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=https://127.0.0.1:${port}/`,
    NODE_EXTRA_CA_CERTS: join(tls, 'localhost.crt'),
  };
  const requests: PreparedRequest[] = webhookBodies(200, secret).map((b) => ({
    body: b.body,
    headers: { 'content-type': 'application/json; charset=utf-8', 'ms-signature': b.signature, 'x-functions-key': functionKey },
  }));
  const webhookPhase = async (connections: number) => {
    tally = newTally();
    const host = await startService(
      distFile('local/host/main.js'),
      ['--port', '0', '--functions', 'engageWebhook'],
      { ...process.env, ...hostSettings(options.connectionString, functionKey, secret), ...telemetryEnv },
      /^Host listening on (\S+)/,
    );
    try {
      log(
        `telemetry on: local host ${host.ready} (pid ${host.pid}) exporting to https://127.0.0.1:${port}, C=${connections}, ${options.durationSeconds} s`,
      );
      const figures = await runLoad({
        url: host.ready,
        path: WEBHOOK_PATH,
        connections,
        durationSeconds: options.durationSeconds,
        requests,
      });
      return { figures, peakRssKb: host.peakRssKb(), tally };
    } finally {
      // A graceful stop flushes the exporters (the app's terminate hook) before the process ends.
      await host.stop();
    }
  };
  let alone: Awaited<ReturnType<typeof webhookPhase>>;
  let loaded: Awaited<ReturnType<typeof webhookPhase>>;
  let timer: Tally;
  try {
    // 1. One request at a time: every event queued and archived alone, as at the rates `npm run cost` prices.
    alone = await webhookPhase(1);
    // 2. Under the bench's load: the peak RSS, and the bytes when archive appends are grouped.
    loaded = await webhookPhase(options.connections);
    // 2. A timer with nothing to do (the drain, not configured), every 2 s.
    tally = newTally();
    const timerHost = await startService(
      distFile('local/host/main.js'),
      ['--port', '0', '--functions', 'notificationsDrain'],
      { ...process.env, AzureWebJobsStorage: options.connectionString, NOTIFICATIONS_SCHEDULE: '*/2 * * * * *', ...telemetryEnv },
      /^Host listening on (\S+)/,
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, Math.max(6, options.durationSeconds) * 1000));
    } finally {
      await timerHost.stop();
    }
    timer = tally;
  } finally {
    await new Promise((resolve) => ingestion.close(resolve));
  }
  const perEvent = (t: Tally, events: number) => (events > 0 ? sumBut(t.bytes, 'MetricData') / events : 0);
  const web = alone.tally;
  const events = alone.figures.ok;
  const timerRuns = timer.timerRuns;
  const metricExports = alone.tally.metricExports + loaded.tally.metricExports;
  const result: TelemetryBenchResult = {
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    events,
    allAnswered2xx: [alone, loaded].every((p) => p.figures.non2xx === 0 && p.figures.errors === 0),
    items: web.items,
    bytes: web.bytes,
    dependencies: web.dependencies,
    itemsPerEvent: events > 0 ? sumBut(web.items, 'MetricData') / events : 0,
    bytesPerEvent: Math.round(perEvent(web, events)),
    eventsUnderLoad: loaded.figures.ok,
    bytesPerEventUnderLoad: Math.round(perEvent(loaded.tally, loaded.figures.ok)),
    metricBytesPerExport:
      metricExports > 0 ? Math.round(((alone.tally.bytes.MetricData ?? 0) + (loaded.tally.bytes.MetricData ?? 0)) / metricExports) : 0,
    timerRuns,
    bytesPerTimerRun: timerRuns > 0 ? Math.round(sumBut(timer.bytes, 'MetricData') / timerRuns) : 0,
    ...(loaded.peakRssKb !== undefined ? { hostPeakRssKb: loaded.peakRssKb } : {}),
  };
  log(`telemetry on: ${formatTelemetryBench(result).split('\n').slice(1).join(';').replace(/\s+/g, ' ')}`);
  return result;
}

export function formatTelemetryBench(t: TelemetryBenchResult): string {
  const mib = (kb: number | undefined) => (kb === undefined ? 'n/a' : `${Math.round(kb / 1024)} MiB`);
  return [
    `Telemetry on (stand-in Application Insights ingestion): webhook one request at a time, ${t.durationSeconds} s, ${t.events} events${t.allAnswered2xx ? '' : ' (NOT all 2xx)'}`,
    `  per event: ${t.itemsPerEvent.toFixed(2)} envelopes, ${t.bytesPerEvent} B uncompressed JSON; ${t.bytesPerEventUnderLoad} B under C=${t.connections} (${t.eventsUnderLoad} events, appends grouped)`,
    `  envelopes: ${Object.entries(t.items)
      .map(([type, n]) => `${type} ${n} / ${t.bytes[type]} B`)
      .join(', ')}`,
    `  dependencies: ${Object.entries(t.dependencies)
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => `${name} ${n}`)
      .join(', ')}`,
    `  metrics: ${t.metricBytesPerExport} B per export (one a minute while an instance lives); an idle timer run: ${t.bytesPerTimerRun} B (${t.timerRuns} runs)`,
    `  host peak RSS with telemetry on, under C=${t.connections}: ${mib(t.hostPeakRssKb)}`,
  ].join('\n');
}
