#!/usr/bin/env node
/**
 * Runs the local Functions host as its own process:
 *   node dist/local/host/main.js [--port 7071] [--dir <project>] [--functions <name>]...
 * (`--functions`, repeatable: only these functions run, as with Core Tools' `func start --functions`).
 * Settings: environment, then local.settings.json (or the sample). Prints
 * `Host listening on http://127.0.0.1:<port>` once every trigger is running. Ctrl-C stops cleanly.
 * It does not start Azurite (`npm start` does): when the storage it is pointed at does not answer,
 * it says so once and exits instead of logging a failure per trigger.
 */
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { readLocalSettings } from './hostConfig';
import { projectRoot, startHost } from './startHost';

/** A problem the user fixes: its message alone, no stack. */
class HintError extends Error {}

const USAGE = `Usage: node dist/local/host/main.js [--port 7071] [--dir <project>] [--functions <name>]...

Runs the app's functions under the local Functions host (no Azurite, no sandbox: \`npm start\` runs all three).
  --port <n>          HTTP port (default 7071)
  --dir <path>        project folder with host.json, dist/ and local.settings.json (default: this project)
  --functions <name>  run only this function (repeatable)
  --help              this text
Settings: the environment, then local.settings.json (or local.settings.sample.json).
`;

/** The local storage endpoint (host, port) a connection string names, when it is on this machine. */
export function localStorageEndpoint(connection: string | undefined): { host: string; port: number } | undefined {
  if (!connection) return undefined;
  if (/UseDevelopmentStorage=true/i.test(connection)) return { host: '127.0.0.1', port: 10001 };
  const m = /QueueEndpoint=https?:\/\/(127\.0\.0\.1|localhost):(\d+)/i.exec(connection);
  return m ? { host: m[1], port: Number(m[2]) } : undefined;
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(5000, () => done(false));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '7071' },
      dir: { type: 'string' },
      functions: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a TCP port (got "${values.port}")`);
  const connection = process.env.AzureWebJobsStorage || readLocalSettings(values.dir ?? projectRoot()).values.AzureWebJobsStorage;
  const endpoint = localStorageEndpoint(connection);
  if (endpoint && !(await reachable(endpoint.host, endpoint.port))) {
    throw new HintError(
      `storage is not running: nothing answers at ${endpoint.host}:${endpoint.port} (the queue endpoint of AzureWebJobsStorage).\n` +
        'Start Azurite first (npx azurite --silent --location .azurite) or use `npm start`, which starts Azurite, the sandbox and this host together.',
    );
  }
  const host = await startHost({ port, dir: values.dir, functions: values.functions });
  process.stdout.write(`Host listening on ${host.url}\n`);
  for (const f of host.functions) process.stdout.write(`  ${f.name} [${f.trigger}] ${f.detail}\n`);
  for (const e of host.errors) process.stdout.write(`  ${e.name} [error] ${e.error}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stdout.write(`${signal}: stopping the host (waiting for running invocations)...\n`);
    host.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  const code = (err as { code?: unknown } | null)?.code;
  const parseArgs = typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
  const usage =
    err instanceof HintError || (err instanceof Error && (err.name === 'HostSettingsError' || err.name === 'ConfigError')) || parseArgs;
  process.stderr.write(`${usage ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  if (parseArgs) process.stderr.write(USAGE);
  process.exit(1);
});
