/**
 * The local Functions host: runs the app without Core Tools (which cannot be installed here) the way
 * the Functions host and the Node worker do: it loads `package.json` `main` with a stand-in for
 * `@azure/functions-core` and indexes what `@azure/functions` registered (app.ts), and invokes every
 * function through the library's InvocationModel (rpc.ts), with the trigger semantics that matter
 * (http.ts, timer.ts, queue.ts). App hooks `appStart` / `appTerminate` run as in the worker.
 *
 * Settings: `local.settings.json` (or the sample) `Values` fill the environment where a variable is
 * not already set; `options.settings` override both. The host knows nothing of the app's settings:
 * the app validates its own configuration (as in Azure, a bad app setting fails the app's
 * invocations, not the host); the host's own settings (LOCAL_HTTP_*, connections) stop it at start.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { connectionOf, indexFunctions, loadApp, type IndexedFunction } from './app';
import type { AppStartContext } from './core/types';
import { hookContext, worker } from './core/worker';
import { readHostJson, readLocalSettings, type HostJsonOverrides } from './hostConfig';
import { batchedStdout, HostLog, type LogSink } from './invocation';
import { createHttpServer, readHttpSettings, type HttpEndpoint } from './http';
import { httpResult, httpTriggerData, invoke } from './rpc';
import { TimerRunner } from './timer';
import { readSingletonSettings, singletonLocks } from './singleton';
import { hostQueues, QueueOutput } from './storage';
import { QueuePoller } from './queue';

export interface HostOptions {
  /**
   * Only these functions run (Core Tools' `func start --functions`); default: every function the
   * app registered (and any registered in this process outside the app's entry point, e.g. by a test).
   */
  functions?: readonly string[];
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
  /** Request body limit in bytes (default: setting LOCAL_HTTP_MAX_BODY_BYTES, else 1 MiB; see http.ts for the other LOCAL_HTTP_* settings). */
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
  /** Functions that failed indexing (e.g. a `%SETTING%` that is not set), with the host's error. */
  errors: { name: string; error: string }[];
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
  const log = new HostLog(options.log ?? batchedStdout());

  worker.sink = (e) => {
    if (e.level === 'trace' || e.level === 'debug' || e.level === 'none') return;
    log.write(e.level, e.functionName ? `Functions.${e.functionName}` : 'worker', e.message);
  };
  const entryPoint = await loadApp(dir);
  const { functions: indexed, errors } = indexFunctions({ entryPoint, only: options.functions });
  for (const e of errors) log.write('error', 'host', `The '${e.name}' function is in error: ${e.error}`);
  const queueOptions = readHostJson(dir, options.hostJson);
  const functionKey = options.functionKey ?? process.env.LOCAL_FUNCTION_KEY ?? randomBytes(24).toString('base64url');
  const masterKey = options.masterKey ?? process.env.LOCAL_MASTER_KEY ?? randomBytes(24).toString('base64url');
  const httpSettings = readHttpSettings(process.env); // throws HostSettingsError naming bad LOCAL_HTTP_* settings
  const httpLimits = {
    maxBodyBytes: options.maxBodyBytes ?? httpSettings.LOCAL_HTTP_MAX_BODY_BYTES,
    headersTimeoutMs: httpSettings.LOCAL_HTTP_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: httpSettings.LOCAL_HTTP_REQUEST_TIMEOUT_MS,
    maxConnections: httpSettings.LOCAL_HTTP_MAX_CONNECTIONS,
  };

  const writers = new Map<string, Promise<QueueOutput>>();
  const writerFor = (connection: string) => {
    let w = writers.get(connection);
    if (!w) writers.set(connection, (w = hostQueues(connection).then((q) => new QueueOutput(q))));
    return w;
  };
  const ofType = (type: string) => indexed.filter((f) => f.trigger.type.toLowerCase() === type);
  const unsupported = indexed.filter((f) => !['httptrigger', 'timertrigger', 'queuetrigger'].includes(f.trigger.type.toLowerCase()));
  for (const f of unsupported)
    log.write('warning', 'host', `'${f.name}': trigger type '${f.trigger.type}' is not supported by the local host; not started`);

  const http = ofType('httptrigger').map((f) => httpEndpoint(f, log, writerFor));
  const lockFor = timerLocks(dir, log);
  const timers = ofType('timertrigger').map((f) => new TimerRunner(f, log, writerFor, lockFor?.(f.name)));
  const pollers = await Promise.all(
    ofType('queuetrigger').map(
      async (f) =>
        new QueuePoller(f, queueOptions, log, await hostQueues(connectionOf(f.trigger)), writerFor, options.processingVisibilitySeconds),
    ),
  );
  const appStart: Omit<AppStartContext, 'hookData' | 'appHookData'> = { functionAppDirectory: dir };
  await worker.runHooks('appStart', hookContext(worker.appLevelHookData, appStart));

  const server = createHttpServer(http, { functionKey, masterKey, ...httpLimits }, log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  for (const t of timers) t.start();
  for (const p of pollers) p.start();

  const functions = [
    ...http.map((e) => ({ name: e.name, trigger: 'http', detail: `${e.methods.join(',')} ${url}/api/${e.route} (auth: ${e.authLevel})` })),
    ...timers.map((t) => ({
      name: t.functionName,
      trigger: 'timer',
      detail: `schedule ${t.schedule}${t.runsOnStartup ? ', runOnStartup' : ''}`,
    })),
    ...pollers.map((p) => ({ name: p.functionName, trigger: 'storageQueue', detail: `queue ${p.queueName}` })),
  ];

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    functionKey,
    masterKey,
    functions,
    errors,
    stop() {
      stopping ??= (async () => {
        // As the worker on shutdown: the app's appTerminate hooks (here they end long-running invocations early).
        await worker.runHooks('appTerminate', hookContext(worker.appLevelHookData, {})).catch((err: unknown) => {
          log.write('error', 'host', `appTerminate hook failed: ${err instanceof Error ? err.message : String(err)}`);
        });
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

/** The timers' singleton locks in the AzureWebJobsStorage account (see singleton.ts); none without a connection string. */
function timerLocks(dir: string, log: HostLog): ReturnType<typeof singletonLocks> {
  let packageName = 'local-host';
  try {
    const name = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') packageName = name;
  } catch {
    // no package.json: the default host id
  }
  const settings = readSingletonSettings(process.env, packageName);
  const connection = process.env.AzureWebJobsStorage;
  if (!connection) {
    log.write('warning', 'Host.Singleton', 'AzureWebJobsStorage is not a connection string: timers run without a singleton lock');
    return null;
  }
  return singletonLocks(connection, settings, log);
}

/** An HTTP trigger's route (default: the function name), methods and auth level, invoked through the worker. */
function httpEndpoint(f: IndexedFunction, log: HostLog, writerFor: (connection: string) => Promise<QueueOutput>): HttpEndpoint {
  const t = f.trigger;
  return {
    name: f.name,
    route: typeof t.route === 'string' && t.route !== '' ? t.route : f.name,
    methods: (Array.isArray(t.methods) ? (t.methods as string[]) : ['GET', 'POST']).map((m) => m.toUpperCase()),
    authLevel: typeof t.authLevel === 'string' ? t.authLevel.toLowerCase() : 'function',
    invoke: async (request) =>
      httpResult(
        await invoke(f, log, 'This function was programmatically called via the host APIs.', httpTriggerData(f, request), writerFor),
      ),
  };
}
