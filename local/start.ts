#!/usr/bin/env node
/**
 * `npm start`: the whole app on this machine with no configuration.
 * 1. Azurite (unless AzureWebJobsStorage points at a real account), data kept in `.azurite/`, in its
 *    own process group: the terminal's Ctrl-C reaches us only, and Azurite is stopped after the host.
 * 2. The upstream sandbox for every source that has no real settings (ports 7081-7083 when free).
 * 3. The local Functions host on port 7071 (or `Host.LocalHttpPort`; another port, said aloud, if taken).
 * 4. A banner: URLs, key, sandbox credentials, a curl that lands an event, queues. Ctrl-C or SIGTERM
 *    stops everything. A second `npm start` in the same folder refuses to start while this one runs.
 * Settings: the environment, then local.settings.json (or the sample); an explicit setting always
 * wins over the defaults chosen here (e.g. ENGAGE_SIGNATURE_MODE).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAzurite, type RunningAzurite } from './azurite';
import { preferredPort } from './ports';
import { projectRoot, startHost, type RunningHost } from './host/startHost';
import { readLocalSettings } from './host/hostConfig';
import { SANDBOX_PORTS, startSandbox, type RunningSandbox } from './sandbox/startSandbox';
import { instancesRequested, startScaledHost } from './instances';
import { ConfigError } from '../shared/errors';
import { signBody } from '../shared/engage/signature';
import { encodeBase64Json } from '../shared/engage/decoder';
import { SUBSCRIPTION_BLOB } from '../shared/notificationApiV2/defaults';

/** A problem the user fixes (printed without a stack). */
class StartError extends Error {}

const say = (line: string) => process.stdout.write(`${line}\n`);

/** `.azurite/npm-start.json`: who runs `npm start` in this folder (pid, host URL). */
function lockFile(root: string): string {
  return join(root, '.azurite', 'npm-start.json');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Refuses to start when another `npm start` of this folder is running (it would share `.azurite/`). */
function takeLock(root: string): () => void {
  const file = lockFile(root);
  mkdirSync(join(root, '.azurite'), { recursive: true });
  if (existsSync(file)) {
    let other: { pid?: number; url?: string } = {};
    try {
      other = JSON.parse(readFileSync(file, 'utf8')) as typeof other;
    } catch {
      /* unreadable: treat as stale */
    }
    if (typeof other.pid === 'number' && other.pid !== process.pid && alive(other.pid)) {
      throw new StartError(
        `npm start is already running in this folder (pid ${other.pid}${other.url ? `, host ${other.url}` : ''}).\n` +
          `Use that one, or stop it first (Ctrl-C in its terminal, or kill -TERM ${other.pid}).`,
      );
    }
  }
  writeFileSync(file, JSON.stringify({ pid: process.pid }));
  return () => {
    try {
      const now = JSON.parse(readFileSync(file, 'utf8')) as { pid?: number };
      if (now.pid === process.pid) rmSync(file, { force: true });
    } catch {
      /* already gone */
    }
  };
}

/** A port we prefer, or another one with a line saying why (never a silent move). */
async function port(what: string, wanted: number, setting?: string): Promise<number> {
  const p = await preferredPort(wanted);
  if (p.moved)
    say(
      `  note: port ${wanted} (${what}) is taken by another program; using ${p.port} instead${setting ? ` (set ${setting} to choose)` : ''}`,
    );
  return p.port;
}

/** A sample Engage push (one VISITOR notification) and the curl that posts it, signed when a secret is known. */
export function sampleCurl(webhookUrl: string, secret: string | undefined): string {
  const payload = [{ VisitorID: 501, BookingID: 9001, Status: 'Arrived', Action: 1 }];
  const body = JSON.stringify({
    Id: 'readme-curl-1',
    Attempt: 1,
    Properties: {},
    Notifications: [{ Action: 'VISITOR', DynamicParamA: encodeBase64Json(payload) }],
  });
  const signature = secret ? ` -H 'ms-signature: ${signBody(secret, body)}'` : '';
  return `curl -sS -X POST '${webhookUrl}' -H 'content-type: application/json'${signature} --data '${body}'`;
}

/**
 * The v2 sandbox starts empty at every run, but `.azurite/` keeps the subscription the drain recorded:
 * give the sandbox that subscription back (a real upstream would still have it), so that a restart
 * reads on instead of warning that it vanished and creating another.
 */
async function restoreSandboxSubscription(
  sandbox: RunningSandbox,
  connectionString: string,
  container: string,
  settings: Record<string, string>,
): Promise<void> {
  if (!sandbox.notifications) return;
  const { BlobServiceClient } = await import('@azure/storage-blob');
  let id: unknown;
  try {
    const blob = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container).getBlobClient(SUBSCRIPTION_BLOB);
    id = (JSON.parse((await blob.downloadToBuffer()).toString('utf8')) as { id?: unknown }).id;
  } catch {
    return; // nothing recorded yet
  }
  if (typeof id !== 'string' || !id) return;
  const clientId = settings.NOTIFICATIONS_SUBSCRIPTION_CLIENT_ID ?? settings.NOTIFICATIONS_CLIENT_ID ?? '';
  const { model } = sandbox.notifications;
  const created = model.createSubscription(clientId, (settings.NOTIFICATIONS_EVENT_TYPE_IDS ?? '').split(',').filter(Boolean), clientId);
  model.subscriptions.delete(created.id);
  created.id = id;
  model.subscriptions.set(id, created);
}

export interface HostPorts {
  hostPort: number;
}

/** Starts one local Functions host on the given port with the given settings. */
export async function startOneHost(
  ports: HostPorts,
  functionKey: string,
  settings: Record<string, string>,
  log: (line: string) => void,
): Promise<RunningHost> {
  const hostOptions = { port: ports.hostPort, functionKey, settings, log };
  // Scale-out (issue 26): `--instances N` runs N host processes behind a round-robin front (local/instances.ts).
  const instances = instancesRequested(process.argv.slice(2)) ?? 1;
  return instances > 1 ? startScaledHost(instances, hostOptions) : startHost(hostOptions);
}

async function main(): Promise<void> {
  const root = projectRoot();
  const local = readLocalSettings(root);
  const env: NodeJS.ProcessEnv = { ...local.values };
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && v !== '') env[k] = v;
  const settings: Record<string, string> = {};
  let azurite: RunningAzurite | undefined;
  let sandbox: RunningSandbox | undefined;
  let host: RunningHost | undefined;
  let releaseLock: () => void = () => undefined;

  const stopAll = async () => {
    await host?.stop(); // first: it finishes its invocations and writes while storage is still up
    await sandbox?.stop();
    await azurite?.stop();
    releaseLock();
  };
  let stoppingSince: number | undefined;
  const onSignal = (signal: string) => {
    // Ctrl-C reaches us twice (from the terminal and forwarded by npm): only a later, separate
    // signal forces the exit.
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince > 2000) {
        void azurite?.stop();
        releaseLock();
        process.exit(130);
      }
      return;
    }
    stoppingSince = Date.now();
    say(`\n${signal}: stopping host, sandbox and Azurite...`);
    stopAll().then(
      () => {
        say('stopped.');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGHUP', () => onSignal('SIGHUP'));

  try {
    releaseLock = takeLock(root);
    const storage = env.AzureWebJobsStorage;
    const identity = env.AzureWebJobsStorage__accountName || env.AzureWebJobsStorage__queueServiceUri;
    if ((!storage && !identity) || (storage && /UseDevelopmentStorage=true/i.test(storage))) {
      const location = join(root, '.azurite');
      mkdirSync(location, { recursive: true });
      azurite = await startAzurite({
        location,
        blobPort: await port('Azurite blob', 10000),
        queuePort: await port('Azurite queue', 10001),
        ownProcessGroup: true,
      });
      settings.AzureWebJobsStorage = azurite.connectionString;
      if (azurite.blobPort !== 10000 || azurite.queuePort !== 10001) {
        say(`  note: the CLI reads AzureWebJobsStorage; in another terminal run: export AzureWebJobsStorage='${azurite.connectionString}'`);
      }
    }

    const hostPort = await port('Functions host', local.port ?? 7071, 'Host.LocalHttpPort in local.settings.json');
    const functionKey = env.LOCAL_FUNCTION_KEY || randomBytes(24).toString('base64url');
    const webhookUrl = `http://127.0.0.1:${hostPort}/api/engage/webhook?code=${encodeURIComponent(functionKey)}`;
    const engageSecret = env.ENGAGE_WEBHOOK_SECRET || randomBytes(24).toString('base64url');
    sandbox = await startSandbox({
      engage: env.ENGAGE_BASE_URL ? undefined : { webhookUrl, secret: engageSecret },
      notifications: !env.NOTIFICATIONS_API_BASE_URL,
      noojee: !env.NOOJEE_BASE_URL,
      traffic: true,
      ports: {
        engage: env.ENGAGE_BASE_URL ? undefined : await port('Engage sandbox', SANDBOX_PORTS.engage),
        notifications: env.NOTIFICATIONS_API_BASE_URL ? undefined : await port('Notification API sandbox', SANDBOX_PORTS.notifications),
        noojee: env.NOOJEE_BASE_URL ? undefined : await port('Noojee sandbox', SANDBOX_PORTS.noojee),
      },
    });
    Object.assign(settings, sandbox.settings);
    if (azurite)
      await restoreSandboxSubscription(sandbox, azurite.connectionString, env.CHECKPOINT_CONTAINER || 'checkpoints', {
        ...env,
        ...settings,
      } as Record<string, string>);
    // The user's explicit setting wins over the sandbox's default.
    if (env.ENGAGE_SIGNATURE_MODE) settings.ENGAGE_SIGNATURE_MODE = env.ENGAGE_SIGNATURE_MODE;
    const signatureMode = settings.ENGAGE_SIGNATURE_MODE ?? env.ENGAGE_SIGNATURE_MODE ?? 'log';

    const hostLogs: string[] = [];
    let banner = false; // host lines printed before the banner are held back until it is out
    host = await startOneHost({ hostPort }, functionKey, settings, (line) => (banner ? say(line) : hostLogs.push(line)));
    writeFileSync(lockFile(root), JSON.stringify({ pid: process.pid, url: host.url }));

    const n = sandbox.notifications;
    const e = sandbox.engage;
    const j = sandbox.noojee;
    const lines = [
      '',
      '  engage-bridge is running locally',
      '  ─────────────────────────────────',
      `  Functions host   ${host.url}   (function key: ${host.functionKey === env.LOCAL_FUNCTION_KEY ? host.functionKey : '<generated; set LOCAL_FUNCTION_KEY to choose one>'})`,
      `  Health           ${host.url}/api/health`,
      `  Webhook          ${host.url}/api/engage/webhook?code=<function key>   (ENGAGE_SIGNATURE_MODE=${signatureMode})`,
      ...host.functions.map((f) => `    ${f.name.padEnd(30)} ${f.trigger.padEnd(13)} ${f.detail}`),
      ...host.errors.map((x) => `    ${x.name.padEnd(30)} ${'in error'.padEnd(13)} ${x.error}`),
      azurite
        ? `  Azurite          blob http://127.0.0.1:${azurite.blobPort}  queue http://127.0.0.1:${azurite.queuePort}  (data in .azurite/; account devstoreaccount1, the well-known Azurite key)`
        : '  Storage          as configured by AzureWebJobsStorage',
      e
        ? `  Sandbox Engage   ${e.url}  (listener registered for the webhook; pushes a signed sample every 5 s)\n                   client id ${e.credentials.clientId}, password ${e.credentials.password}, subscription key ${e.credentials.subscriptionKey}`
        : '  Engage           as configured (register listeners with the CLI)',
      n
        ? `  Sandbox v2 API   ${n.url}  (publishes sample events every 10 s)\n                   client id ${settings.NOTIFICATIONS_CLIENT_ID ?? '?'}, client secret ${settings.NOTIFICATIONS_CLIENT_SECRET ?? '?'}`
        : '  Notification API as configured',
      j
        ? `  Sandbox Noojee   ${j.url}  (simulates calls on ${settings.NOOJEE_EXTENSIONS} every 15 s)\n                   API key ${j.apiKey}`
        : '  Noojee           as configured',
      '',
      `  Queues           engage-<type> (e.g. engage-deskprogression), ${settings.NOTIFICATIONS_QUEUE ?? 'notifications-v2'}, noojee-call-events; failures in <queue>-poison`,
      `  Occupancy        ${host.url}/api/occupancy/<resourceId>?code=<function key>  (built from the Engage events)`,
      '',
      '  Post an event yourself (lands in queue engage-visitor):',
      `    ${sampleCurl(`${host.url}/api/engage/webhook?code=${encodeURIComponent(host.functionKey)}`, settings.ENGAGE_WEBHOOK_SECRET ?? env.ENGAGE_WEBHOOK_SECRET)}`,
      '',
      '  Logs: every invocation is logged below (stdout). In another terminal: npm run cli -- status',
      '  Ctrl-C stops everything.',
      '',
    ];
    say(lines.join('\n'));
    banner = true;
    for (const l of hostLogs) say(l);
  } catch (err) {
    process.stderr.write(
      `${err instanceof ConfigError || err instanceof StartError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    await stopAll();
    process.exit(1);
  }
}

if (require.main === module) void main();
