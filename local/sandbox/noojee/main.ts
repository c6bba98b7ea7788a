#!/usr/bin/env node
/**
 * Runs the Noojee sandbox on its own:
 *   node dist/local/sandbox/noojee/main.js [--port 8090] [--api-key sandbox-noojee-key]
 *     [--traffic-ms 15000] [--extensions 400,410,420]
 * Prints the settings that point the app at it. Ctrl-C stops it.
 */
import { startNoojeeSandbox } from './index';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const trafficMs = Number(arg('--traffic-ms') ?? 15_000);
  const extensions = (arg('--extensions') ?? '400,410,420').split(',').map((e) => e.trim()).filter(Boolean);
  const sandbox = await startNoojeeSandbox({
    port: Number(arg('--port') ?? 8090),
    apiKey: arg('--api-key'),
    traffic: trafficMs > 0 ? { intervalMs: trafficMs, extensions } : undefined,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(
    `Noojee sandbox listening on ${sandbox.url} (controls under ${sandbox.url}/_sandbox/)\n` +
      `  NOOJEE_BASE_URL=${sandbox.url} NOOJEE_API_KEY=<the sandbox key> NOOJEE_EXTENSIONS=${extensions.join(',')}\n` +
      (trafficMs > 0 ? `  a call every ${trafficMs} ms between ${extensions.join(', ')}\n` : ''),
  );
  const stop = () => sandbox.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
