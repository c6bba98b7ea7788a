/**
 * In-memory OpenTelemetry for tests: the Node tracer provider (AsyncLocalStorage context manager, W3C
 * propagator) with an InMemorySpanExporter, and a meter provider with an InMemoryMetricExporter; `metric()`
 * collects and sums a metric's points.
 */
import { context, metrics, propagation, trace, type Attributes } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
} from '@opentelemetry/sdk-metrics';

export interface TestTelemetry {
  spans(): ReadableSpan[];
  span(name: string): ReadableSpan;
  /** Sum of the metric's counter points (or histogram counts) whose attributes include `match`. */
  metric(name: string, match?: Attributes): Promise<number>;
  /** The metric's data points whose attributes include `match`. */
  points(name: string, match?: Attributes): Promise<DataPoint<number | Histogram>[]>;
  reset(): void;
  stop(): Promise<void>;
}

export function startTestTelemetry(): TestTelemetry {
  const spans = new InMemorySpanExporter();
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  tracerProvider.register();
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  const points = async (name: string, match: Attributes = {}) => {
    exporter.reset();
    await reader.forceFlush();
    const last = exporter.getMetrics().at(-1);
    const found = last?.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    return (found?.dataPoints ?? []).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v)) as DataPoint<
      number | Histogram
    >[];
  };
  return {
    spans: () => spans.getFinishedSpans(),
    span(name) {
      const s = spans.getFinishedSpans().find((x) => x.name === name);
      if (!s)
        throw new Error(
          `no span "${name}" (spans: ${spans
            .getFinishedSpans()
            .map((x) => x.name)
            .join(', ')})`,
        );
      return s;
    },
    points,
    async metric(name, match) {
      return (await points(name, match)).reduce((sum, p) => sum + (typeof p.value === 'number' ? p.value : p.value.count), 0);
    },
    reset: () => spans.reset(),
    async stop() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
      trace.disable();
      metrics.disable();
      context.disable();
      propagation.disable();
    },
  };
}
