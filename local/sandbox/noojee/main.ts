#!/usr/bin/env node
/**
 * Runs the Noojee sandbox on its own:
 *   node dist/local/sandbox/noojee/main.js [--port 8090] [--api-key sandbox-noojee-key]
 *     [--traffic-ms 15000] [--extensions 400,410,420]
 * Prints the settings that point the app at it. Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import { startNoojeeSandbox } from './noojeeSandbox';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8090' },
      'api-key': { type: 'string' },
      'traffic-ms': { type: 'string', default: '15000' },
      extensions: { type: 'string', default: '400,410,420' },
    },
  });
  const trafficMs = Number(values['traffic-ms']);
  const extensions = values.extensions
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const sandbox = await startNoojeeSandbox({
    port: Number(values.port),
    apiKey: values['api-key'],
    traffic: trafficMs > 0 ? { intervalMs: trafficMs, extensions } : undefined,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(
    `Noojee sandbox listening on ${sandbox.url} (controls under ${sandbox.url}/_sandbox/)\n` +
      `  NOOJEE_BASE_URL=${sandbox.url} NOOJEE_API_KEY=<the sandbox key> NOOJEE_EXTENSIONS=${extensions.join(',')}\n` +
      (trafficMs > 0 ? `  a call every ${trafficMs} ms between ${extensions.join(', ')}\n` : ''),
  );
  const stop = () => void sandbox.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
