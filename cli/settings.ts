/**
 * Settings for CLI commands, the way the app gets them: the environment first, then
 * `local.settings.json` (or `local.settings.sample.json`, as the local host does) in the working
 * directory fills what the environment leaves unset. Shared by the CLI command modules.
 */
import { loadConfig, type Config } from '../shared/config';
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

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
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
