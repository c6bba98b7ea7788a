/** OpenTelemetry for the bridge: setup (setup.ts, register.ts), spans (tracer.ts), metrics (meter.ts, names in names.ts). */
export { count, record } from './meter';
export { METRICS, type ConsumerOutcome, type MetricKey, type MetricSpec } from './names';
export {
  activeContext,
  contextFromCarrier,
  entryKind,
  inSpan,
  invocationContext,
  linkTo,
  openSpan,
  ROOT_CONTEXT,
  SpanKind,
  traceCarrier,
  tracer,
  type OpenSpan,
  type SpanSpec,
  type TraceCarrier,
} from './tracer';
