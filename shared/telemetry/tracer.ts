/**
 * Spans of the bridge and the W3C trace context it carries through the queues.
 *
 * Queue messages carry the context of the span that wrote them as the CloudEvents Distributed
 * Tracing extension attributes `traceparent` / `tracestate` (W3C Trace Context by definition of that
 * extension, whatever propagator the SDK uses for HTTP). They are read and written here directly,
 * so they do not depend on a global propagator being registered.
 */
import {
  context,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import type { InvocationContext } from '@azure/functions';
import { version } from '../version';

export const TRACER_NAME = 'engage-bridge';
export { ROOT_CONTEXT, SpanKind };

/** W3C traceparent: version-traceid-parentid-flags (lower-case hex). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

export function tracer() {
  return trace.getTracer(TRACER_NAME, version);
}

export interface SpanSpec {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** Parent context (default: the active one). `ROOT_CONTEXT` starts a new trace. */
  parent?: Context;
}

/**
 * Runs `fn` in a new active span; the span ends when `fn` settles, with status error (and the
 * exception recorded) when it throws.
 */
export function inSpan<T>(name: string, spec: SpanSpec, fn: (span: Span) => Promise<T>): Promise<T> {
  const options = { kind: spec.kind ?? SpanKind.INTERNAL, attributes: spec.attributes, links: spec.links };
  return tracer().startActiveSpan(name, options, spec.parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      fail(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** A span started now and ended later (e.g. a drain page, ended once its messages are enqueued). */
export interface OpenSpan {
  readonly span: Span;
  /** Runs `fn` with the span active. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Ends the span (status error when `error` is given); later calls do nothing. */
  end(error?: unknown): void;
}

export function openSpan(name: string, spec: SpanSpec): OpenSpan {
  const span = tracer().startSpan(
    name,
    { kind: spec.kind ?? SpanKind.INTERNAL, attributes: spec.attributes, links: spec.links },
    spec.parent ?? context.active(),
  );
  const ctx = trace.setSpan(spec.parent ?? context.active(), span);
  let ended = false;
  return {
    span,
    run: (fn) => context.with(ctx, fn),
    end(error) {
      if (ended) return;
      ended = true;
      if (error !== undefined) fail(span, error);
      span.end();
    },
  };
}

/** Records a failure on a span with the configured secrets redacted (an exception text may echo one, issue 20.3). */
function fail(span: Span, err: unknown): void {
  // Loaded on the first failure only: telemetry stays cheap to load (cold start).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use: cold start stays cheap
  const { secretRedactor } = require('../config/settings') as typeof import('../config/settings');
  const r = secretRedactor();
  const message = r.text(err instanceof Error ? err.message : String(err));
  span.recordException(
    err instanceof Error ? { name: err.name, message, stack: err.stack === undefined ? undefined : r.text(err.stack) } : message,
  );
  span.setStatus({ code: SpanStatusCode.ERROR, message: message.split('\n')[0] });
}

/** The kind of a unit of work's first span: INTERNAL under a parent (the host's invocation span), `rootKind` when it starts the trace. */
export function entryKind(parent: Context, rootKind: SpanKind): SpanKind {
  return trace.getSpanContext(parent) ? SpanKind.INTERNAL : rootKind;
}

/** The distributed-tracing attributes of a message: the context of `ctx` (default: the active one). */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

export function traceCarrier(ctx: Context = context.active()): TraceCarrier | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !isSpanContextValid(sc)) return undefined;
  const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, '0');
  const carrier: TraceCarrier = { traceparent: `00-${sc.traceId}-${sc.spanId}-${flags}` };
  const state = sc.traceState?.serialize();
  if (state) carrier.tracestate = state;
  return carrier;
}

/** The remote context a traceparent (and tracestate) describe; undefined when absent or invalid. */
export function contextFromCarrier(traceparent: unknown, tracestate?: unknown): Context | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const m = TRACEPARENT.exec(traceparent.trim());
  if (!m || m[1] === 'ff' || (m[1] === '00' && m[5] !== undefined)) return undefined;
  const sc = {
    traceId: m[2],
    spanId: m[3],
    traceFlags: parseInt(m[4], 16) & 0x01,
    isRemote: true,
    ...(typeof tracestate === 'string' && tracestate.trim() !== '' ? { traceState: createTraceState(tracestate) } : {}),
  };
  return isSpanContextValid(sc) ? trace.setSpanContext(ROOT_CONTEXT, sc) : undefined;
}

/**
 * The context an invocation runs in: the active one when it holds a span (on Azure the
 * AzureFunctionsInstrumentation hook makes the host's invocation span active), otherwise the trace
 * context the host handed over in `context.traceContext` (hosts that run no hooks), else the active one.
 */
export function invocationContext(ctx?: Pick<InvocationContext, 'traceContext'>): Context {
  const active = context.active();
  if (trace.getSpanContext(active) || !ctx?.traceContext) return active;
  return contextFromCarrier(ctx.traceContext.traceParent, ctx.traceContext.traceState) ?? active;
}

/** The active context (on Azure: the invocation's, set by the Functions instrumentation). */
export function activeContext(): Context {
  return context.active();
}

/** A link to the span of `ctx`, when it has one (e.g. a trace started per page links to its invocation). */
export function linkTo(ctx: Context): Link[] {
  const sc = trace.getSpanContext(ctx);
  return sc && isSpanContextValid(sc) ? [{ context: sc }] : [];
}
