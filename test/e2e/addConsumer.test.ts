/**
 * A user adds one standard consumer file to `functions/` and nothing else: in a temporary copy of
 * the project, the file (TypeScript as a user writes it) is picked up by the build's bundling step
 * (the app's entry, package.json `main`, imports every file of functions/), registered through
 * `@azure/functions`, and runs under the local host: a message in its queue reaches its handler.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../local/azurite';
import { freePort } from '../../local/ports';
import { cloudEvent } from '../../shared/envelope';
import { encodeMessage } from '../../shared/queue/writer';
import { REPO_ROOT } from '../helpers/app';
import { buildUserApp } from '../helpers/userApp';
import { waitFor } from '../helpers/queues';

/** The whole new file, as a user writes it in functions/deskAudit.ts. */
const NEW_FILE = `
import { z } from 'zod';
import { defineConsumer } from '../shared/consumer';

export const deskAudit = defineConsumer('deskAudit', {
  queueName: 'desk-audit',
  schemas: { 'com.example.desk.audit': z.object({ desk: z.number().int() }) },
  handler: async (event, context) => {
    context.log(\`audited desk \${event.data.desk} (event \${event.id}, attempt \${event.message.dequeueCount})\`);
  },
});
`;

let azurite: RunningAzurite;
let app: string;
let host: ChildProcess | undefined;

beforeAll(async () => {
  azurite = await startAzurite();
  app = buildUserApp('add-consumer-', 'functions/deskAudit.ts', NEW_FILE);
});

afterAll(async () => {
  if (host && host.exitCode === null) {
    const exited = new Promise((resolve) => host!.once('exit', resolve));
    host.kill('SIGTERM');
    await exited;
  }
  await azurite?.stop();
  rmSync(app, { recursive: true, force: true });
});

test('the new consumer file runs under the local host with no other edit', async () => {
  const port = await freePort();
  let out = '';
  host = spawn(
    process.execPath,
    [join(REPO_ROOT, 'dist', 'local', 'host', 'main.js'), '--port', String(port), '--dir', app, '--functions', 'deskAudit'],
    {
      env: { PATH: process.env.PATH, AzureWebJobsStorage: azurite.connectionString },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  host.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  host.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  // main.js prints `Host listening on ...`, then one line per function it runs.
  await waitFor(() => out.includes('deskAudit [storageQueue]') || host!.exitCode !== null, 'the host to start', 45_000, 50);
  expect(out).toContain('deskAudit [storageQueue] queue desk-audit');

  const queue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient('desk-audit');
  await queue.createIfNotExists();
  await queue.sendMessage(
    encodeMessage(cloudEvent({ id: 'audit-1', source: '/test', type: 'com.example.desk.audit', data: { desk: 42 } })),
  );
  await waitFor(() => out.includes('audited desk 42'), 'the consumer to handle the message', 45_000, 50);
  expect(out).toMatch(/info Functions\.deskAudit: audited desk 42 \(event audit-1, attempt 1\)/);
  expect(out).toMatch(/Executed 'Functions\.deskAudit' \(Succeeded/);
}, 120_000);
