/**
 * One operation from the webhook to the consumer, with in-memory exporters and a real Azurite:
 * the webhook request's span → the PRODUCER span of the queue write (its context in the message's
 * `traceparent`) → the consumer's CONSUMER span, all in one trace; and the metrics counted it.
 */
import { InvocationContext } from '@azure/functions';
import { SpanKind } from '@opentelemetry/api';
import { z } from 'zod';
import { startAzurite, type RunningAzurite } from '../../../local/azurite';
import { processMessage } from '../../../shared/consumer/process';
import { encodeBase64Json } from '../../../shared/engage/decoder';
import { METRICS } from '../../../shared/telemetry/names';
import { drainQueue } from '../../helpers/queues';
import { startTestTelemetry, type TestTelemetry } from '../../helpers/telemetry';
import { configureWebhook } from '../engage/env';
import { callWebhook } from '../engage/serveWebhook';

let azurite: RunningAzurite;
let otel: TestTelemetry;

beforeAll(async () => {
  otel = startTestTelemetry();
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
  await otel?.stop();
});
beforeEach(() => otel.reset());

const consumerSpec = { schemas: { 'com.eptura.engage.desk': z.array(z.looseObject({ BookingID: z.number() })) } };

function queueContext(dequeueCount: number, logs: string[] = []): InvocationContext {
  return new InvocationContext({
    functionName: 'deskConsumer',
    triggerMetadata: { id: 'm1', dequeueCount },
    logHandler: (level, ...args) => logs.push(`${level}: ${args.join(' ')}`),
  });
}

const desk = (resource: number) => [
  { Date: '2026-11-23T00:00:00', BookingID: 7, ResourceItemID: resource, Action: 1, UntilFurtherNotice: false },
];

function push(id: string, notifications: unknown[]) {
  return callWebhook({
    body: JSON.stringify({
      Id: id,
      Attempt: 1,
      Notifications: notifications.map((p) => ({ Action: 'DESK', DynamicParamA: encodeBase64Json(p) })),
    }),
  });
}

test('webhook → queue → consumer is one trace, and the metrics count it', async () => {
  configureWebhook(azurite.connectionString, { ENGAGE_SIGNATURE_MODE: 'off', ENGAGE_DECODER: 'base64-json' });
  const before = {
    requests: await otel.metric(METRICS.webhookRequests.name, { status: 200 }),
    notifications: await otel.metric(METRICS.webhookNotifications.name),
    written: await otel.metric(METRICS.messagesWritten.name, { queue: 'engage-desk' }),
    ok: await otel.metric(METRICS.consumerMessages.name, { function: 'deskConsumer', outcome: 'ok' }),
    latency: await otel.metric(METRICS.consumerLatency.name, { function: 'deskConsumer' }),
  };

  const res = await push('trace-1', [desk(42)]);
  expect(res).toMatchObject({ status: 200 });

  const [message] = await drainQueue(azurite.connectionString, 'engage-desk');
  const envelope = message.body as { id: string; traceparent?: string; type: string };
  expect(envelope.type).toBe('com.eptura.engage.desk');

  const webhook = otel.span('POST engage/webhook');
  const send = otel.span('send engage-desk');
  expect(webhook.kind).toBe(SpanKind.SERVER); // no host span around it here
  expect(send.kind).toBe(SpanKind.PRODUCER);
  expect(send.parentSpanContext?.spanId).toBe(webhook.spanContext().spanId);
  expect(envelope.traceparent).toBe(`00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`);

  // The consumer, invoked with no active trace (as a fresh queue-trigger invocation would be).
  await processMessage('deskConsumer', { ...consumerSpec, handler: async () => undefined }, message.body, queueContext(1));
  const consumer = otel.span('process deskConsumer');
  expect(consumer.kind).toBe(SpanKind.CONSUMER);
  expect(consumer.spanContext().traceId).toBe(webhook.spanContext().traceId);
  expect(consumer.parentSpanContext?.spanId).toBe(send.spanContext().spanId);

  expect(await otel.metric(METRICS.webhookRequests.name, { status: 200 })).toBe(before.requests + 1);
  expect(await otel.metric(METRICS.webhookNotifications.name)).toBe(before.notifications + 1);
  expect(await otel.metric(METRICS.messagesWritten.name, { queue: 'engage-desk' })).toBe(before.written + 1);
  expect(await otel.metric(METRICS.consumerMessages.name, { function: 'deskConsumer', outcome: 'ok' })).toBe(before.ok + 1);
  expect(await otel.metric(METRICS.consumerLatency.name, { function: 'deskConsumer' })).toBe(before.latency + 1);
});

test('a claim-checked message carries the trace on its pointer; raw messages carry none', async () => {
  configureWebhook(azurite.connectionString, {
    ENGAGE_SIGNATURE_MODE: 'off',
    ENGAGE_DECODER: 'base64-json',
    ENGAGE_ROUTES: JSON.stringify([
      { eventTypes: ['DESK'], queue: 'engage-desk' },
      { eventTypes: ['DESK'], queue: 'desk-raw', format: 'raw' },
    ]),
  });
  const claimChecks = await otel.metric(METRICS.claimChecks.name, { queue: 'engage-desk' });
  const big = [{ ...desk(43)[0], Note: 'x'.repeat(70_000) }];
  expect((await push('trace-2', [big])).status).toBe(200);

  const [pointer] = await drainQueue(azurite.connectionString, 'engage-desk');
  const body = pointer.body as { claimcheck?: string; traceparent?: string };
  expect(body.claimcheck).toBeDefined();
  const send = otel.spans().find((s) => s.name === 'send' && s.kind === SpanKind.PRODUCER)!;
  expect(body.traceparent).toContain(send.spanContext().traceId);
  expect(await otel.metric(METRICS.claimChecks.name, { queue: 'engage-desk' })).toBe(claimChecks + 1);

  const [raw] = await drainQueue(azurite.connectionString, 'desk-raw');
  expect(JSON.stringify(raw.body)).not.toContain('traceparent');

  await processMessage('deskConsumer', { ...consumerSpec, handler: async () => undefined }, pointer.body, queueContext(1));
  expect(otel.span('process deskConsumer').spanContext().traceId).toBe(send.spanContext().traceId);
});

test('consumer outcomes: retried before maxDequeueCount (host.json: 5), poisoned on the last attempt', async () => {
  const failing = { ...consumerSpec, handler: async () => Promise.reject(new Error('downstream down')) };
  const body = { specversion: '1.0', id: 'e1', source: 's', type: 'com.eptura.engage.desk', data: [{ BookingID: 1 }] };
  const retried = await otel.metric(METRICS.consumerMessages.name, { function: 'deskConsumer', outcome: 'retried' });
  const poisoned = await otel.metric(METRICS.consumerMessages.name, { function: 'deskConsumer', outcome: 'poisoned' });
  await expect(processMessage('deskConsumer', failing, body, queueContext(1))).rejects.toThrow('downstream down');
  await expect(processMessage('deskConsumer', failing, body, queueContext(5))).rejects.toThrow('downstream down');
  expect(await otel.metric(METRICS.consumerMessages.name, { function: 'deskConsumer', outcome: 'retried' })).toBe(retried + 1);
  expect(await otel.metric(METRICS.consumerMessages.name, { function: 'deskConsumer', outcome: 'poisoned' })).toBe(poisoned + 1);
  // Without a traceparent the consumer span starts its own trace, marked failed.
  const spans = otel.spans().filter((s) => s.name === 'process deskConsumer');
  expect(spans).toHaveLength(2);
  expect(spans.every((s) => s.status.code === 2 && s.parentSpanContext === undefined)).toBe(true);
});

test('the poison monitor records queue and poison depth gauges (what the alert and the workbook query)', async () => {
  const { QueueServiceClient } = await import('@azure/storage-queue');
  const { runPoisonMonitor } = await import('../../../shared/poison/monitor');
  const svc = QueueServiceClient.fromConnectionString(azurite.connectionString);
  for (const [name, n] of [
    ['gauge-src', 1],
    ['gauge-src-poison', 2],
  ] as const) {
    const q = svc.getQueueClient(name);
    await q.createIfNotExists();
    for (let i = 0; i < n; i++) await q.sendMessage(Buffer.from('{}').toString('base64'));
  }
  await runPoisonMonitor(queueContext(1), svc);
  expect(
    (await otel.points(METRICS.poisonDepth.name, { queue: 'gauge-src-poison', source_queue: 'gauge-src' })).map((p) => p.value),
  ).toEqual([2]);
  expect((await otel.points(METRICS.queueDepth.name, { queue: 'gauge-src' })).map((p) => p.value)).toEqual([1]);
});
