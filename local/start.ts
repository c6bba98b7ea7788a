#!/usr/bin/env node
/**
 * `npm start`: the whole app on this machine with no configuration.
 * 1. Azurite (unless AzureWebJobsStorage points at a real account), data kept in `.azurite/`.
 * 2. The upstream sandbox for every source that has no real settings.
 * 3. The local Functions host on port 7071 (or `Host.LocalHttpPort`, or a free port if taken).
 * 4. A banner: URLs, key, queues, where logs go. Ctrl-C stops everything.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startAzurite, type RunningAzurite } from './azurite';
import { freePort } from './ports';
import { projectRoot, startHost, type RunningHost } from './host';
import { readLocalSettings } from './host/hostConfig';
import { startSandbox, type RunningSandbox } from './sandbox';
import { instancesRequested, startScaledHost } from './instances';
import { ConfigError } from '../shared/errors';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function preferredPort(port: number): Promise<number> {
  return (await portIsFree(port)) ? port : freePort();
}

async function main(): Promise<void> {
  const root = projectRoot();
  const local = readLocalSettings(root);
  const env = { ...local.values, ...process.env };
  const settings: Record<string, string> = {};
  const say = (line: string) => process.stdout.write(`${line}\n`);
  let azurite: RunningAzurite | undefined;
  let sandbox: RunningSandbox | undefined;
  let host: RunningHost | undefined;

  const stopAll = async () => {
    await host?.stop();
    await sandbox?.stop();
    await azurite?.stop();
  };
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    say(`\n${signal}: stopping host, sandbox and Azurite...`);
    stopAll().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  try {
    const storage = env.AzureWebJobsStorage;
    const identity = env.AzureWebJobsStorage__accountName || env.AzureWebJobsStorage__queueServiceUri;
    if ((!storage && !identity) || (storage && /UseDevelopmentStorage=true/i.test(storage))) {
      const location = join(root, '.azurite');
      mkdirSync(location, { recursive: true });
      azurite = await startAzurite({ location, blobPort: await preferredPort(10000), queuePort: await preferredPort(10001) });
      settings.AzureWebJobsStorage = azurite.connectionString;
    }

    const hostPort = await preferredPort(local.port ?? 7071);
    const functionKey = env.LOCAL_FUNCTION_KEY || randomBytes(24).toString('base64url');
    const webhookUrl = `http://127.0.0.1:${hostPort}/api/engage/webhook?code=${encodeURIComponent(functionKey)}`;
    sandbox = await startSandbox({
      engage: env.ENGAGE_BASE_URL ? undefined : { webhookUrl, secret: env.ENGAGE_WEBHOOK_SECRET || randomBytes(24).toString('base64url') },
      notifications: !env.NOTIFICATIONS_API_BASE_URL,
      noojee: !env.NOOJEE_BASE_URL,
      traffic: true,
    });
    Object.assign(settings, sandbox.settings);

    const hostLogs: string[] = [];
    let banner = false; // host lines printed before the banner are held back until it is out
    const hostOptions = { port: hostPort, functionKey, settings, log: (line: string) => (banner ? say(line) : hostLogs.push(line)) };
    // Scale-out (issue 26): `--instances N` runs N host processes behind a round-robin front (local/instances.ts).
    const instances = instancesRequested(process.argv.slice(2)) ?? 1;
    host = instances > 1 ? await startScaledHost(instances, hostOptions) : await startHost(hostOptions);

    const lines = [
      '',
      '  engage-bridge is running locally',
      '  ─────────────────────────────────',
      `  Functions host   ${host.url}   (function key: ${host.functionKey === env.LOCAL_FUNCTION_KEY ? host.functionKey : '<generated; set LOCAL_FUNCTION_KEY to choose one>'})`,
      `  Health           ${host.url}/api/health`,
      ...host.functions.map((f) => `    ${f.name.padEnd(30)} ${f.trigger.padEnd(13)} ${f.detail}`),
      ...host.errors.map((e) => `    ${e.name.padEnd(30)} ${'in error'.padEnd(13)} ${e.error}`),
      azurite
        ? `  Azurite          blob http://127.0.0.1:${azurite.blobPort}  queue http://127.0.0.1:${azurite.queuePort}  (data in .azurite/)`
        : '  Storage          as configured by AzureWebJobsStorage',
      sandbox.engage
        ? `  Sandbox Engage   ${sandbox.engage.url}  (listener registered for the webhook; pushes a signed sample every 5 s)`
        : '  Engage           as configured (register listeners with the CLI)',
      sandbox.notifications ? `  Sandbox v2 API   ${sandbox.notifications.url}  (publishes sample events every 10 s)` : '  Notification API as configured',
      sandbox.noojee ? `  Sandbox Noojee   ${sandbox.noojee.url}  (simulates calls on ${settings.NOOJEE_EXTENSIONS} every 15 s)` : '  Noojee           as configured',
      '',
      `  Queues           engage-<type> (e.g. engage-deskprogression), ${settings.NOTIFICATIONS_QUEUE ?? 'notifications-v2'}, noojee-call-events; failures in <queue>-poison`,
      `  Occupancy        ${host.url}/api/occupancy/<resourceId>?code=<function key>  (built from the Engage events)`,
      '  Logs: every invocation is logged below (stdout). Status: `node dist/cli/index.js status` in another terminal.',
      '  Ctrl-C stops everything.',
      '',
    ];
    say(lines.join('\n'));
    banner = true;
    for (const l of hostLogs) say(l);
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    await stopAll();
    process.exit(1);
  }
}

void main();
