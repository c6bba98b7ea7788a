/**
 * Settings for CLI commands, the way the app gets them: the environment first, then
 * `local.settings.json` (or `local.settings.sample.json`, as the local host does) in the working
 * directory fills what the environment leaves unset. Every command reads them through here.
 */
import { InvalidArgumentError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QueueServiceClient } from '@azure/storage-queue';
import { z } from 'zod';
import { loadConfig, secretRedactor, type Config } from '../shared/config/settings';
import type { Redactor } from '../shared/redact';
import { getStorage, type StorageClients } from '../shared/storage';

const localSettingsFile = z.object({ Values: z.record(z.string(), z.string()).optional() });

/** `Values` of local.settings.json (or the sample) in `dir`, as the Functions host reads them. */
export function readSettingsFile(dir: string): { values: Record<string, string>; file?: string } {
  for (const name of ['local.settings.json', 'local.settings.sample.json']) {
    const file = join(dir, name);
    if (!existsSync(file)) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const parsed = localSettingsFile.safeParse(raw);
    if (!parsed.success)
      throw new Error(`${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return { values: parsed.data.Values ?? {}, file };
  }
  return { values: {} };
}

/** The storage endpoint the last command used (for the "storage is down" message). */
let storageEndpoint: { url: string; source: string } | undefined;

export function lastStorageEndpoint(): { url: string; source: string } | undefined {
  return storageEndpoint;
}

/** The `code` of a Node.js system error (`ECONNREFUSED`, …), or ''. */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** True for an error that means storage could not be reached at all (nothing answered). */
export function isUnreachable(err: unknown): boolean {
  const text = `${errorCode(err)} ${err instanceof Error ? err.message : String(err)}`;
  return /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|ETIMEDOUT|did not answer within the deadline/.test(text);
}

/** Refuses a queue name that is neither a queue nor a `-poison` queue in this storage account. */
export async function requireKnownQueue(queues: QueueServiceClient, name: string): Promise<void> {
  const source = name.endsWith('-poison') ? name.slice(0, -'-poison'.length) : name;
  const [main, poison] = await Promise.all([queues.getQueueClient(source).exists(), queues.getQueueClient(`${source}-poison`).exists()]);
  if (main || poison) return;
  const known: string[] = [];
  for await (const q of queues.listQueues()) known.push(q.name);
  throw new Error(
    `no queue "${source}" (nor "${source}-poison") in storage at ${queues.url}; queues there: ${known.join(', ') || '(none)'}`,
  );
}

export interface CliSettings {
  /** The merged settings (environment wins over the file). */
  env: NodeJS.ProcessEnv;
  /** The settings file used, if any. */
  file?: string;
}

export function loadCliSettings(dir: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): CliSettings {
  const local = readSettingsFile(dir);
  const merged: NodeJS.ProcessEnv = { ...local.values };
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') merged[k] = v;
  return { env: merged, file: local.file };
}

export interface CliContext {
  settings: CliSettings;
  config: Config;
  storage: StorageClients;
}

/** Validated configuration and storage clients for a command (ConfigError lists what is missing). */
export async function cliContext(dir?: string, env?: NodeJS.ProcessEnv): Promise<CliContext> {
  const settings = loadCliSettings(dir, env);
  const config = loadConfig(settings.env);
  const storage = await getStorage('AzureWebJobsStorage', settings.env);
  storageEndpoint = {
    url: storage.queues.url,
    source: (env ?? process.env).AzureWebJobsStorage
      ? 'AzureWebJobsStorage in the environment'
      : settings.file
        ? `AzureWebJobsStorage in ${settings.file}`
        : 'AzureWebJobsStorage',
  };
  return { settings, config, storage };
}

/** Where a command writes (tests capture it). */
export interface CliIo {
  out(text: string): void;
  /** Working directory whose local.settings.json is read. */
  cwd(): string;
  env(): NodeJS.ProcessEnv;
}

let redactor: Redactor | undefined;

/**
 * Redacts what the CLI prints (stdout and error messages): the secrets configured in the
 * environment or the settings file, and credential-shaped fields (an upstream may echo them).
 */
export function cliRedactor(): Redactor {
  return (redactor ??= secretRedactor(loadCliSettings().env));
}

/** Writes to stdout through the CLI's redaction. */
export function writeOut(text: string): void {
  process.stdout.write(cliRedactor().text(text));
}

export const processIo: CliIo = {
  out: writeOut,
  cwd: () => process.cwd(),
  env: () => process.env,
};

/** Commander option parser for a positive integer. */
export function positiveInt(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) {
    throw new InvalidArgumentError('must be a positive integer');
  }
  return Number(value);
}
