#!/usr/bin/env node
/**
 * The raw baseline of the webhook benchmark, run as its own process like the host:
 * a bare node:http server whose handler reads the request body and does ONE SDK `sendMessage`
 * (of a base64 JSON text of a given size) to Azurite, then answers 200 (500 if the send failed).
 * Nothing else: no routing, validation, envelope or logging. It measures the SDK enqueue at
 * concurrency C with the minimum HTTP around it.
 *
 * Environment: RAW_STORAGE (connection string), RAW_QUEUE, RAW_MESSAGE_BYTES (length of the base64
 * text sent), RAW_PORT (0 = free port). Prints `Raw server listening on http://127.0.0.1:<port>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueueServiceClient } from '@azure/storage-queue';
import { messageOfEncodedLength } from './filler';

async function main(): Promise<void> {
  const connection = required('RAW_STORAGE');
  const queueName = required('RAW_QUEUE');
  const bytes = Number(required('RAW_MESSAGE_BYTES'));
  const queue = QueueServiceClient.fromConnectionString(connection).getQueueClient(queueName);
  await queue.createIfNotExists();
  const text = messageOfEncodedLength(bytes);

  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      queue.sendMessage(text).then(
        () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"ok":true}');
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(Number(process.env.RAW_PORT ?? 0), '127.0.0.1', resolve));
  process.stdout.write(`Raw server listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  process.on('SIGINT', () => server.close(() => process.exit(0)));
}

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
