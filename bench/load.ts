/**
 * HTTP load with autocannon (never a hand-written loop): a fixed duration at C connections,
 * POSTing a pool of prepared bodies in turn, and the figures the report needs.
 */
import autocannon from 'autocannon';

export interface PreparedRequest {
  body: string;
  headers: Record<string, string>;
}

export interface LoadSpec {
  url: string;
  path: string;
  connections: number;
  durationSeconds: number;
  requests: readonly PreparedRequest[];
}

export interface LoadFigures {
  /** Successful (2xx) responses per second over the run. */
  reqPerSec: number;
  /** Latency percentiles (ms) of the responses. */
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Requests sent (may exceed answered ones by what was in flight when the run stopped). */
  sent: number;
  durationSeconds: number;
  statusCodes: Record<string, number>;
}

export function runLoad(spec: LoadSpec): Promise<LoadFigures> {
  if (spec.requests.length === 0) throw new Error('runLoad needs at least one request');
  let next = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSeconds,
        requests: [
          {
            method: 'POST',
            path: spec.path,
            setupRequest: (req) => {
              const r = spec.requests[next++ % spec.requests.length];
              return { ...req, method: 'POST', path: spec.path, headers: r.headers, body: r.body };
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        const statusCodes: Record<string, number> = {};
        for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = Number(v.count);
        resolve({
          reqPerSec: result['2xx'] / result.duration,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          meanMs: result.latency.average,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          sent: result.requests.sent,
          durationSeconds: result.duration,
          statusCodes,
        });
      },
    );
  });
}
