import { z } from 'zod';
import { cloudEvent } from '../../../shared/envelope';
import { defineConsumer, type ConsumerEvent, type ConsumerSpec } from '../../../shared/consumer';
import { InvalidMessageError } from '../../../shared/consumer/errors';
import { decodeTriggerItem } from '../../../shared/consumer/process';
import { loggedContext } from './logContext';

const schemas = {
  'com.example.ping': z.object({ n: z.number().int() }),
  'com.example.note': z.string(),
};

let registered = 0;
/** A consumer registered under a fresh function name (its handler is what the host would call). */
const consumerHandler = (spec: ConsumerSpec<typeof schemas>) => defineConsumer(`pingsUnit${++registered}`, { queueName: 'pings', ...spec });

function consumer(extra: Partial<ConsumerSpec<typeof schemas>> = {}) {
  const seen: ConsumerEvent<typeof schemas>[] = [];
  const handler = consumerHandler({
    schemas,
    handler: async (event) => {
      seen.push(event);
    },
    ...extra,
  });
  return { def: { handler }, seen };
}

/** The context of an invocation of the function `pings`. */
const pingsContext = (metadata: Record<string, unknown> = {}) => loggedContext(metadata, 'pings');

const ping = cloudEvent({ id: 'p-1', source: '/test', type: 'com.example.ping', data: { n: 3 }, subject: 'abc' });

describe('defineConsumer', () => {
  test('defineConsumer registers an app.storageQueue function on the storage connection and returns its handler', () => {
    const handler = defineConsumer('pingsRegistered', { queueName: '%PINGS_QUEUE%', schemas, handler: async () => undefined });
    expect(typeof handler).toBe('function');
    const { worker } = require('../../../local/host/core/worker') as typeof import('../../../local/host/core/worker');
    const bindings = Object.values(worker.functions.get('pingsRegistered')!.metadata.bindings);
    expect(bindings).toEqual([
      expect.objectContaining({ type: 'queueTrigger', direction: 'in', queueName: '%PINGS_QUEUE%', connection: 'AzureWebJobsStorage' }),
    ]);
    expect(worker.functions.get('pingsRegistered')!.callback).toBe(handler);
  });

  test('hands the handler a typed event (object or JSON text as the trigger passes it)', async () => {
    const { def, seen } = consumer();
    const { context } = loggedContext({ id: 'm1', dequeueCount: 2, insertionTime: '2026-11-23T10:00:00.000Z' });
    await def.handler(ping, context);
    await def.handler(JSON.stringify({ ...ping, id: 'p-2' }), context);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({
      id: 'p-1',
      type: 'com.example.ping',
      source: '/test',
      subject: 'abc',
      data: { n: 3 },
      message: { messageId: 'm1', dequeueCount: 2, insertionTime: '2026-11-23T10:00:00.000Z' },
    });
    expect(seen[0].envelope).toEqual(ping);
    expect(seen[1].id).toBe('p-2');
  });

  test('invalid messages fail with one clear log line (retried, then poison)', async () => {
    const { def, seen } = consumer();
    const cases: [unknown, RegExp][] = [
      ['not json at all', /not a CloudEvents 1.0 envelope/],
      [{ hello: 'world' }, /not a CloudEvents 1.0 envelope \(specversion: .*id: /],
      [
        { ...ping, type: 'com.example.other' },
        /has type "com.example.other", which this consumer has no schema for \(known: com.example.ping, com.example.note\)/,
      ],
      [{ ...ping, data: { n: 'three' } }, /data does not match its schema: n: /],
      [
        { ...ping, data: 'bWxGY3NydDBYOEFqSzNR' },
        /data does not match its schema: \(root\): .*\(data is a string: a payload the producer left undecoded\?\)/,
      ],
    ];
    for (const [body, reason] of cases) {
      const log = pingsContext({ id: 'bad', dequeueCount: 1 });
      await expect(def.handler(body, log.context)).rejects.toThrow(InvalidMessageError);
      await expect(def.handler(body, log.context)).rejects.toThrow(reason);
      expect(log.lines[0]).toMatchObject({ level: 'error' });
      expect(log.lines[0].text).toMatch(/^consumer pings: invalid message bad \(dequeueCount 1\): .*moved to the -poison queue/);
    }
    expect(seen).toHaveLength(0);
  });

  test('unknownTypes: ignore logs and succeeds', async () => {
    const { def, seen } = consumer({ unknownTypes: 'ignore' });
    const log = pingsContext({ id: 'm9', dequeueCount: 1 });
    await def.handler({ ...ping, type: 'com.example.other' }, log.context);
    expect(seen).toHaveLength(0);
    expect(log.text()).toMatch(/warning: consumer pings: ignored message m9/);
  });

  test('a failing handler is logged with the event id and rethrown', async () => {
    const handler = consumerHandler({
      schemas,
      handler: async () => {
        throw new Error('downstream is down');
      },
    });
    const log = loggedContext({ id: 'm2', dequeueCount: 3 }, 'failing');
    await expect(handler(ping, log.context)).rejects.toThrow('downstream is down');
    expect(log.text()).toContain(
      'error: consumer failing: handler failed for event p-1 (com.example.ping), message m2 (dequeueCount 3): Error: downstream is down',
    );
  });

  test('raw format: the payload alone, typed by rawType; auto accepts both', async () => {
    const raw = consumer({ format: 'raw', rawType: 'com.example.note' });
    await raw.def.handler('just text', loggedContext({ id: 'r1', dequeueCount: 1 }).context);
    expect(raw.seen[0]).toMatchObject({ id: 'r1', type: 'com.example.note', data: 'just text', envelope: undefined });
    const auto = consumer({ format: 'auto', rawType: 'com.example.note' });
    await auto.def.handler(ping, loggedContext().context);
    await auto.def.handler('plain', loggedContext().context);
    expect(auto.seen.map((e) => e.type)).toEqual(['com.example.ping', 'com.example.note']);
    const noRawType = consumer({ format: 'raw' });
    await expect(noRawType.def.handler('x', loggedContext().context)).rejects.toThrow(/declares no rawType/);
  });

  test('decodeTriggerItem: bytes and JSON text', () => {
    expect(decodeTriggerItem(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(decodeTriggerItem('{"a":1}')).toEqual({ a: 1 });
    expect(decodeTriggerItem('x')).toBe('x');
  });
});
