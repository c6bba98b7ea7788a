/**
 * The bridge's metrics (names and units: names.ts). Instruments are created on first use from the
 * global MeterProvider and again when it changes (tests install their own); without an SDK they are
 * the API's no-ops, so recording costs a function call.
 */
import { metrics, type Attributes, type Counter, type Gauge, type Histogram, type MeterProvider } from '@opentelemetry/api';
import { version } from '../version';
import { METRICS, type MetricKey } from './names';

export const METER_NAME = 'engage-bridge';

type Instrument = Counter | Histogram | Gauge;

let provider: MeterProvider | undefined;
let instruments = new Map<MetricKey, Instrument>();

function instrument(key: MetricKey): Instrument {
  const current = metrics.getMeterProvider();
  if (current !== provider) {
    provider = current;
    instruments = new Map();
  }
  let i = instruments.get(key);
  if (!i) {
    const spec = METRICS[key];
    const meter = current.getMeter(METER_NAME, version);
    const options = { unit: spec.unit, description: spec.description };
    i =
      spec.kind === 'counter'
        ? meter.createCounter(spec.name, options)
        : spec.kind === 'histogram'
          ? meter.createHistogram(spec.name, options)
          : meter.createGauge(spec.name, options);
    instruments.set(key, i);
  }
  return i;
}

/** Adds to a counter (names.ts kind `counter`). */
export function count(key: MetricKey, value = 1, attributes?: Attributes): void {
  if (value > 0) (instrument(key) as Counter).add(value, attributes);
}

/** Records a value of a histogram or a gauge (names.ts kind `histogram` / `gauge`). */
export function record(key: MetricKey, value: number, attributes?: Attributes): void {
  (instrument(key) as Histogram | Gauge).record(value, attributes);
}
