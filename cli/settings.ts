/**
 * Settings for CLI commands, the way the app gets them: the environment first, then
 * `local.settings.json` (or `local.settings.sample.json`, as the local host does) in the working
 * directory fills what the environment leaves unset. Shared by the CLI command modules.
 */
import { loadConfig, secretRedactor, type Config } from '../shared/config';
import type { Redactor } from '../shared/redact';
import { getStorage, type StorageClients } from '../shared/storage';
import { readLocalSettings } from '../local/host/hostConfig';

export interface CliSettings {
  /** The merged settings (environment wins over the file). */
  env: NodeJS.ProcessEnv;
  /** The settings file used, if any. */
  file?: string;
}

export function loadCliSettings(dir: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): CliSettings {
  const local = readLocalSettings(dir);
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
    const { InvalidArgumentError } = require('commander') as typeof import('commander');
    throw new InvalidArgumentError('must be a positive integer');
  }
  return Number(value);
}
