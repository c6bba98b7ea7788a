/**
 * shared/telemetry: W3C trace context on messages, the setup modes, the metric list in the README,
 * and one trace per drain page / Noojee poll (in-memory exporters, fake upstreams and stores).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { context, ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { ManagedIdentityCredential } from '@azure/identity';
import { drainNotifications, type DrainApi } from '../../../shared/notificationApiV2/drain';
import type { JsonBlobStore } from '../../../shared/state/jsonBlobStore';
import { pollCallEvents } from '../../../shared/noojee/poller';
import type { OutgoingMessage } from '../../../shared/queue/writer';
import { METRICS } from '../../../shared/telemetry/names';
import { IngestionManagedIdentity, ingestionCredential, startTelemetry, telemetryMode } from '../../../shared/telemetry/setup';
import { contextFromCarrier, inSpan, traceCarrier } from '../../../shared/telemetry/tracer';
import { startTestTelemetry, type TestTelemetry } from '../../helpers/telemetry';

let otel: TestTelemetry;
beforeAll(() => (otel = startTestTelemetry()));
afterAll(() => otel.stop());
beforeEach(() => otel.reset());

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

describe('trace context carried by messages (CloudEvents Distributed Tracing extension)', () => {
  test('traceparent / tracestate round-trip', () => {
    const ctx = contextFromCarrier(`00-${TRACE_ID}-${SPAN_ID}-01`, 'congo=t61rcWkgMzE')!;
    expect(trace.getSpanContext(ctx)).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    expect(traceCarrier(ctx)).toEqual({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, tracestate: 'congo=t61rcWkgMzE' });
  });

  test.each([
    ['absent', undefined],
    ['not a string', 42],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['version 00 with extra fields', `00-${TRACE_ID}-${SPAN_ID}-01-extra`],
    ['upper case', `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ['short', `00-${TRACE_ID}-${SPAN_ID}`],
  ])('an invalid traceparent (%s) is ignored', (_why, value) => {
    expect(contextFromCarrier(value)).toBeUndefined();
  });

  test('a later version with extra fields is read (W3C: parse the known prefix)', () => {
    expect(trace.getSpanContext(contextFromCarrier(`01-${TRACE_ID}-${SPAN_ID}-00-more`)!)?.traceId).toBe(TRACE_ID);
  });

  test('no carrier outside a span; the active span inside one', async () => {
    expect(traceCarrier(ROOT_CONTEXT)).toBeUndefined();
    await inSpan('work', {}, async (span) => {
      expect(traceCarrier()?.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    });
  });

  test('a failing span is ended with status error and the exception', async () => {
    await expect(inSpan('boom', {}, async () => Promise.reject(new Error('no\nmore')))).rejects.toThrow('no');
    const s = otel.span('boom');
    expect(s.status).toEqual({ code: 2, message: 'no' });
    expect(s.events.map((e) => e.name)).toContain('exception');
  });
});

describe('setup', () => {
  test('off unless a connection string or a console exporter is set', () => {
    expect(telemetryMode({})).toBe('off');
    expect(telemetryMode({ APPLICATIONINSIGHTS_CONNECTION_STRING: ' ' })).toBe('off');
    expect(telemetryMode({ OTEL_TRACES_EXPORTER: 'console' })).toBe('console');
    expect(telemetryMode({ OTEL_METRICS_EXPORTER: 'console' })).toBe('console');
    expect(telemetryMode({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x', OTEL_TRACES_EXPORTER: 'console' })).toBe(
      'azure-monitor',
    );
  });

  test('APPLICATIONINSIGHTS_AUTHENTICATION_STRING as infra/main.bicep sets it → the user-assigned managed identity', async () => {
    expect(ingestionCredential({})).toBeUndefined();
    const userAssigned = ingestionCredential({
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=11111111-2222-3333-4444-555555555555;Authorization=AAD',
    });
    expect(userAssigned).toBeInstanceOf(IngestionManagedIdentity);
    expect(userAssigned).toMatchObject({ clientId: '11111111-2222-3333-4444-555555555555' });
    const systemAssigned = ingestionCredential({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD' });
    expect(systemAssigned).toMatchObject({ clientId: undefined });
    // The real credential is made on the first token request (there is no managed identity endpoint here: it fails).
    await expect(systemAssigned!.getToken('https://monitor.azure.com/.default', { requestOptions: { timeout: 2000 } })).rejects.toThrow();
    expect((systemAssigned as unknown as { credential: unknown }).credential).toBeInstanceOf(ManagedIdentityCredential);
    expect(() => ingestionCredential({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=Key' })).toThrow('Authorization=AAD');
    const bicep = readFileSync(join(__dirname, '..', '..', '..', 'infra', 'main.bicep'), 'utf8');
    expect(bicep).toContain("APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'");
  });

  test('a setup failure leaves telemetry off (reported on stderr) instead of stopping the app', () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(
        startTelemetry({
          APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x',
          APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=Key',
        }),
      ).toBe('off');
      expect(String(stderr.mock.calls[0]?.[0])).toContain(
        'telemetry: off, setup failed: APPLICATIONINSIGHTS_AUTHENTICATION_STRING must be',
      );
    } finally {
      stderr.mockRestore();
    }
  });

  test('the README lists every metric with its unit', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    for (const m of Object.values(METRICS)) expect(readme).toContain(`| \`${m.name}\` | ${m.kind} | \`${m.unit}\` |`);
  });
});

/** A JsonBlobStore in memory (the drain's journal and checkpoints). */
function memoryStore(): JsonBlobStore {
  const blobs = new Map<string, unknown>();
  return {
    list: async (prefix = '') => [...blobs.keys()].filter((k) => k.startsWith(prefix)).sort(),
    read: async (name: string) => (blobs.has(name) ? { value: blobs.get(name), etag: '"1"' } : undefined),
    write: async (name: string, value: unknown) => {
      blobs.set(name, value);
      return '"1"';
    },
    delete: async (name: string) => void blobs.delete(name),
  } as unknown as JsonBlobStore;
}

/** A writer that records each batch with the trace it was written in. */
function recordingWriter() {
  const batches: { messages: readonly OutgoingMessage[]; traceId?: string }[] = [];
  return {
    batches,
    sendAll: async (messages: readonly OutgoingMessage[]) =>
      void batches.push({ messages, traceId: trace.getSpanContext(context.active())?.traceId }),
  };
}

test('the drain starts one trace per page, linked to its invocation; the page messages are written in it', async () => {
  const pages = [
    [
      { event_type_id: '101', id: 1 },
      { event_type_id: '101', id: 2 },
    ],
    [{ event_type_id: '102', id: 3 }],
    [],
  ];
  const api = {
    source: 'https://api.example',
    getSubscription: async (id: string) => ({ id, subscription_status: { number_of_remaining_notifications: 0 } }),
    readNotifications: async () => ({ results: pages.shift() ?? [], page: null, text: '' }),
  } as unknown as DrainApi;
  const writer = recordingWriter();
  const drained = await otel.metric(METRICS.drainNotifications.name);
  const result = await inSpan('timer invocation', {}, () =>
    drainNotifications(
      { api, writer, journal: memoryStore(), checkpoints: memoryStore() },
      {
        queue: 'notifications-v2',
        format: 'cloudevents',
        pageSize: 10,
        timeBudgetMs: 60_000,
        pagesInFlight: 2,
        retry: { attempts: 0, baseDelayMs: 1 },
        subscription: { fixedId: 'sub-1' },
      },
    ),
  );
  expect(result).toMatchObject({ pages: 2, drained: 3, backlog: 0 });

  const invocation = otel.span('timer invocation');
  const pageSpans = otel.spans().filter((s) => s.name === 'drain page');
  expect(pageSpans).toHaveLength(3); // two pages and the empty read that ends the run
  for (const s of pageSpans) {
    expect(s.kind).toBe(SpanKind.CONSUMER);
    expect(s.parentSpanContext).toBeUndefined();
    expect(s.spanContext().traceId).not.toBe(invocation.spanContext().traceId);
    expect(s.links.map((l) => l.context.spanId)).toEqual([invocation.spanContext().spanId]);
  }
  expect(new Set(pageSpans.map((s) => s.spanContext().traceId)).size).toBe(3);
  expect(writer.batches.map((b) => b.traceId)).toEqual(pageSpans.slice(0, 2).map((s) => s.spanContext().traceId));
  expect(await otel.metric(METRICS.drainNotifications.name)).toBe(drained + 3);
  expect((await otel.points(METRICS.drainBacklog.name)).map((p) => p.value)).toEqual([0]);
});

test('the Noojee poller starts one trace per poll and counts events and cursor lag', async () => {
  const responses = [
    {
      Code: 0,
      seq: 5,
      events: [
        { exten: '400', index: 0, entry: { CallData: { uniqueCallId: 'c1', status: 'RINGING' } }, uniqueCallId: 'c1', status: 'RINGING' },
      ],
      unreadable: [],
    },
    { Code: 0, seq: 5, events: [], unreadable: [] },
  ];
  let calls = 0;
  const controller = new AbortController();
  const client = {
    subscribe: async () => {
      calls++;
      if (calls === responses.length) controller.abort();
      return responses[calls - 1];
    },
  };
  const writer = recordingWriter();
  const cursor = { load: async () => ({ seq: 0 }), save: async (_held: unknown, seq: number) => ({ seq, etag: '"2"' }) };
  const events = await otel.metric(METRICS.noojeeEvents.name);
  const lags = await otel.metric(METRICS.noojeeCursorLag.name);
  const result = await pollCallEvents(
    { client, writer, cursor, log: { info: () => undefined, warn: () => undefined } },
    {
      extensions: ['400'],
      queue: 'noojee-call-events',
      source: 'noojee',
      budgetMs: 60_000,
      pollTimeoutSeconds: 5,
      retryDelayMs: 1,
      minPollIntervalMs: 0,
      signal: controller.signal,
    },
  );
  expect(result).toMatchObject({ events: 1, polls: 2, seq: 5, stoppedBy: 'aborted' });
  const polls = otel.spans().filter((s) => s.name === 'noojee poll');
  expect(polls).toHaveLength(2);
  expect(polls.every((s) => s.kind === SpanKind.CONSUMER && s.parentSpanContext === undefined)).toBe(true);
  expect(polls[0].spanContext().traceId).not.toBe(polls[1].spanContext().traceId);
  expect(writer.batches.map((b) => b.traceId)).toEqual([polls[0].spanContext().traceId]);
  expect(await otel.metric(METRICS.noojeeEvents.name)).toBe(events + 1);
  expect(await otel.metric(METRICS.noojeeCursorLag.name)).toBe(lags + 1);
});
