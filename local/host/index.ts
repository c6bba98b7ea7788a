/**
 * The local Functions host: runs the app's function definitions without Core Tools (which cannot
 * be installed here), with the semantics that matter (see http.ts, timer.ts, queue.ts).
 *
 * Settings: `local.settings.json` (or the sample) `Values` fill the environment where a variable is
 * not already set; `options.settings` override both. The app's configuration is validated at start:
 * a bad setting stops the host with one message listing every problem.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type {
  FunctionDefinition,
  HttpFunctionDefinition,
  QueueFunctionDefinition,
  TimerFunctionDefinition,
} from '../../shared/definition';
import { loadConfig, resetConfig, secretValues } from '../../shared/config';
import { getStorage } from '../../shared/storage';
import { QueueWriter } from '../../shared/queue/writer';
import { requestShutdown, resetShutdown } from '../../shared/shutdown';
import { readHostJson, readLocalSettings, type HostJsonOverrides } from './hostConfig';
import { batchedStdout, HostLog, type LogSink } from './invocation';
import { createHttpServer } from './http';
import { TimerRunner } from './timer';
import { QueuePoller } from './queue';

export interface HostOptions {
  /** Function definitions to run (default: every function of the app, `functions/registry`). */
  definitions?: readonly FunctionDefinition[];
  /** Settings applied to the environment, overriding local.settings.json and existing variables. */
  settings?: Record<string, string>;
  /** Read local.settings.json / local.settings.sample.json (default true). */
  useLocalSettings?: boolean;
  /** HTTP port (default: a free port). */
  port?: number;
  /** Overrides of host.json. */
  hostJson?: HostJsonOverrides;
  /** Function key for authLevel function (default: setting LOCAL_FUNCTION_KEY, else random). */
  functionKey?: string;
  /** Master key for authLevel admin (default: setting LOCAL_MASTER_KEY, else random). */
  masterKey?: string;
  /** Request body limit in bytes (default: setting LOCAL_HTTP_MAX_BODY_BYTES, else 1 MiB). */
  maxBodyBytes?: number;
  /** Visibility timeout while a queue message is processed, seconds (default 600, as the real host). */
  processingVisibilitySeconds?: number;
  /** Where host.json and local settings live (default: the project root). */
  dir?: string;
  /** Log sink (default: stdout). */
  log?: LogSink;
}

export interface RunningHost {
  url: string;
  port: number;
  functionKey: string;
  masterKey: string;
  functions: { name: string; trigger: string; detail: string }[];
  stop(): Promise<void>;
}

export function projectRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'host.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

export async function startHost(options: HostOptions = {}): Promise<RunningHost> {
  const dir = options.dir ?? projectRoot();
  if (options.useLocalSettings !== false) {
    for (const [k, v] of Object.entries(readLocalSettings(dir).values)) if (process.env[k] === undefined) process.env[k] = v;
  }
  for (const [k, v] of Object.entries(options.settings ?? {})) process.env[k] = v;
  resetConfig();
  resetShutdown();
  const config = loadConfig(process.env); // throws ConfigError listing every problem
  const log = new HostLog(options.log ?? batchedStdout(), []);
  log.setSecrets(secretValues(process.env));

  const definitions = (options.definitions ?? (await import('../../functions/registry')).definitions).filter(
    (d) => !/^(true|1)$/i.test(process.env[`AzureWebJobs.${d.name}.Disabled`] ?? ''),
  );
  const names = new Set<string>();
  for (const d of definitions) {
    if (names.has(d.name)) throw new Error(`function "${d.name}" is defined twice`);
    names.add(d.name);
  }
  const queueOptions = readHostJson(dir, options.hostJson);
  const functionKey = options.functionKey ?? process.env.LOCAL_FUNCTION_KEY ?? randomBytes(24).toString('base64url');
  const masterKey = options.masterKey ?? process.env.LOCAL_MASTER_KEY ?? randomBytes(24).toString('base64url');
  const maxBodyBytes = options.maxBodyBytes ?? Number(process.env.LOCAL_HTTP_MAX_BODY_BYTES ?? 1024 * 1024);

  const storage = await getStorage();
  let writer: QueueWriter | undefined;
  const getWriter = async () => (writer ??= new QueueWriter(storage, { claimCheckContainer: config.CLAIM_CHECK_CONTAINER }));

  const http = definitions.filter((d): d is HttpFunctionDefinition => d.trigger.kind === 'http');
  const timers = definitions.filter((d): d is TimerFunctionDefinition => d.trigger.kind === 'timer').map((d) => new TimerRunner(d, log, getWriter));
  const pollers = definitions
    .filter((d): d is QueueFunctionDefinition => d.trigger.kind === 'storageQueue')
    .map((d) => new QueuePoller(d, queueOptions, log, storage, getWriter, options.processingVisibilitySeconds));

  const server = createHttpServer(http, { functionKey, masterKey, maxBodyBytes }, log, getWriter);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  for (const t of timers) t.start();
  for (const p of pollers) p.start();

  const functions = definitions.map((d) => ({
    name: d.name,
    trigger: d.trigger.kind,
    detail:
      d.trigger.kind === 'http'
        ? `${d.trigger.methods.join(',')} ${url}/api/${d.trigger.route} (auth: ${d.trigger.authLevel})`
        : d.trigger.kind === 'timer'
          ? `schedule ${d.trigger.schedule}${d.trigger.runOnStartup ? ', runOnStartup' : ''}`
          : `queue ${pollers.find((p) => p.functionName === d.name)?.queueName ?? d.trigger.queueName}`,
  }));

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    functionKey,
    masterKey,
    functions,
    stop() {
      stopping ??= (async () => {
        requestShutdown(); // long-running invocations end early and cleanly
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await Promise.all([...timers.map((t) => t.stop()), ...pollers.map((p) => p.stop())]);
      })();
      return stopping;
    },
  };
}
