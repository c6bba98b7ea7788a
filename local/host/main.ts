#!/usr/bin/env node
/**
 * Runs the local Functions host as its own process:
 *   node dist/local/host/main.js [--port 7071] [--dir <project>] [--functions <name>]...
 * (`--functions`, repeatable: only these functions run, as with Core Tools' `func start --functions`).
 * Settings: environment, then local.settings.json (or the sample). Prints
 * `Host listening on http://127.0.0.1:<port>` once every trigger is running. Ctrl-C stops cleanly.
 */
import { parseArgs } from 'node:util';
import { startHost } from './index';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '7071' }, dir: { type: 'string' }, functions: { type: 'string', multiple: true } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a TCP port (got "${values.port}")`);
  const host = await startHost({ port, dir: values.dir, functions: values.functions });
  process.stdout.write(`Host listening on ${host.url}\n`);
  for (const f of host.functions) process.stdout.write(`  ${f.name} [${f.trigger}] ${f.detail}\n`);
  for (const e of host.errors) process.stdout.write(`  ${e.name} [error] ${e.error}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stdout.write(`${signal}: stopping the host (waiting for running invocations)...\n`);
    host.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  const usage = (err instanceof Error && (err.name === 'HostSettingsError' || err.name === 'ConfigError')) || String((err as { code?: unknown })?.code ?? '').startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`${usage ? (err as Error).message : err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
