/**
 * What infra/main.bicep deploys (app settings, queues, containers), read with the offline Bicep
 * model, and the checks that tie it to the code's settings schema (shared/config). Every check
 * returns a list of problems (empty = consistent) so tests can show them all at once, and so the
 * tests can prove the checks catch a removed setting or queue (mutated copies of the Bicep).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { loadConfig, SECRET_SETTINGS, settingsSchema } from '../../../shared/config/settings';
import type { Node } from 'web-tree-sitter';
import { BicepFile, BicepScope, isKnown, objectProperty, parseBicepFile, UNKNOWN, UNKNOWN_TEXT, type BicepValue } from './bicepModel';

export const REPO_ROOT = resolve(__dirname, '../../..');
export const INFRA_DIR = join(REPO_ROOT, 'infra');
export const MAIN_BICEP = join(INFRA_DIR, 'main.bicep');
/** The region the evaluated deployments use (main.bicep's location has no default; every deployer passes one). */
export const DEPLOY_LOCATION = 'eastus2';

/** Files under `dir` (recursively) whose name ends with `suffix`. */
export function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, suffix);
    return name.endsWith(suffix) ? [path] : [];
  });
}

const QUEUE_TYPE = 'Microsoft.Storage/storageAccounts/queueServices/queues@';
const CONTAINER_TYPE = 'Microsoft.Storage/storageAccounts/blobServices/containers@';
const APP_SETTINGS_TYPE = 'Microsoft.Web/sites/config@';
const SITE_TYPE = 'Microsoft.Web/sites@';

/** Azure queue / blob container name rule (3-63 lower-case letters, digits, single dashes). */
export const STORAGE_NAME = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/** App settings of the Functions platform (not ours to declare in shared/config). */
export const PLATFORM_SETTING = /^(FUNCTIONS_|AzureWebJobs|APPLICATIONINSIGHTS_|WEBSITE_|SCM_|AZURE_FUNCTIONS_)/;

/**
 * App settings the Flex Consumption plan does not support (the runtime, scale and deployment are set
 * in functionAppConfig instead): the Flex Consumption docs' deprecated settings, as the Azure CLI's
 * `az functionapp flex-migration` also leaves them out.
 */
export const FLEX_REJECTED_SETTINGS = [
  'ENABLE_ORYX_BUILD',
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_MAX_HTTP_CONCURRENCY',
  'FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED',
  'FUNCTIONS_WORKER_PROCESS_COUNT',
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_WORKER_RUNTIME_VERSION',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTOVERVNET',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_DNS_SERVER',
  'WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_SKIP_CONTENTSHARE_VALIDATION',
  'WEBSITE_VNET_ROUTE_ALL',
];

/**
 * Site properties Flex Consumption refuses or ignores (e.g. ftpsState: ARM error 51021 "Site.SiteConfig.
 * FtpsState for Flex Consumption sites is invalid"); scale, runtime and memory live in
 * functionAppConfig on this plan.
 */
export const FLEX_REJECTED_SITE_PROPERTIES = [
  'ftpsState',
  'alwaysOn',
  'use32BitWorkerProcess',
  'linuxFxVersion',
  'windowsFxVersion',
  'javaVersion',
  'netFrameworkVersion',
  'powerShellVersion',
  'functionAppScaleLimit',
  'preWarmedInstanceCount',
  'containerSize',
  'dailyMemoryTimeQuota',
];

const KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\((VaultName=[^;()]+;SecretName=[0-9A-Za-z-]+|SecretUri=https:\/\/[^()]+)\)$/;

export interface Deployment {
  /** App settings as the Function App gets them (name → value; UNKNOWN parts for deployment-time values). */
  appSettings: Record<string, BicepValue>;
  queues: BicepValue[];
  containers: BicepValue[];
  /** `functionAppConfig.deployment.storage.value` of the site (blob container URL). */
  deploymentStorage: BicepValue;
  /** Parameter values main.bicep was evaluated with (file values + defaults). */
  param(name: string): BicepValue;
  /** Names main.bicep sets by itself (without `extraAppSettings`). */
  ownSettingNames: string[];
}

/**
 * Evaluates main.bicep and its modules with the given parameter values. `sources` replaces file
 * contents (absolute path → Bicep text), for tests that mutate the infra.
 */
export async function loadDeployment(params: Record<string, BicepValue> = {}, sources: Record<string, string> = {}): Promise<Deployment> {
  const deployment = await evaluateDeployment(params, sources);
  const own = 'extraAppSettings' in params ? await evaluateDeployment({ ...params, extraAppSettings: {} }, sources) : deployment;
  return { ...deployment, ownSettingNames: Object.keys(own.appSettings) };
}

async function evaluateDeployment(
  params: Record<string, BicepValue>,
  sources: Record<string, string>,
): Promise<Omit<Deployment, 'ownSettingNames'>> {
  const read = (path: string) => parseBicepFile(path, sources[path] ?? readFileSync(path, 'utf8'));
  const main = await read(MAIN_BICEP);
  // location has no default: azd (AZURE_LOCATION) and the deploy workflow (--parameters location=…) always pass one.
  const mainScope = new BicepScope(main, { location: DEPLOY_LOCATION, ...params });
  const scopes: { file: BicepFile; scope: BicepScope }[] = [{ file: main, scope: mainScope }];
  for (const [name, mod] of main.modules) {
    const file = await read(mod.path);
    scopes.push({ file, scope: new BicepScope(file, mainScope.moduleParams(name)) });
  }
  const errors = scopes.flatMap((s) => s.file.errors);
  if (errors.length) throw new Error(`Bicep syntax errors:\n${errors.join('\n')}`);

  const namesOf = (type: string) =>
    scopes.flatMap(({ file, scope }) => file.resourcesOfType(type).flatMap((r) => scope.resourceNames(r.name)));

  const settingsResources = scopes.flatMap(({ file, scope }) =>
    file.resourcesOfType(APP_SETTINGS_TYPE).flatMap((r) => {
      const names = scope.resourceNames(r.name);
      return names.includes('appsettings') ? [scope.evaluate(propertyPath(r.body, ['properties'], file.path))] : [];
    }),
  );
  if (settingsResources.length !== 1)
    throw new Error(`expected exactly one Microsoft.Web/sites/config 'appsettings' resource, found ${settingsResources.length}`);
  const appSettings = settingsResources[0]!;
  if (!appSettings || typeof appSettings !== 'object' || Array.isArray(appSettings)) {
    throw new Error(
      'the app settings are not an object whose names are known before deployment (use literal keys, union() and toObject())',
    );
  }

  const sites = scopes.flatMap(({ file, scope }) =>
    file
      .resourcesOfType(SITE_TYPE)
      .map((r) => scope.evaluate(propertyPath(r.body, ['properties', 'functionAppConfig', 'deployment', 'storage', 'value'], file.path))),
  );

  return {
    appSettings: appSettings,
    queues: namesOf(QUEUE_TYPE),
    containers: namesOf(CONTAINER_TYPE),
    deploymentStorage: sites[0] ?? UNKNOWN,
    param: (name) => mainScope.param(name),
  };
}

/** The node at `a.b.c` of a resource body (the object inside an `if`/`for`, if any). */
function propertyPath(body: Node, path: string[], file: string): Node {
  let node = body;
  while (node.type !== 'object') {
    const named = node.namedChildren.filter((c): c is Node => c !== null);
    node = named[named.length - 1]!;
  }
  for (const key of path) {
    const next = objectProperty(node, key);
    if (!next) throw new Error(`${file}:${node.startPosition.row + 1}: no property ${path.join('.')}`);
    node = next;
  }
  return node;
}

// ---------------------------------------------------------------------------------------------
// The settings schema, introspected (zod 4)
// ---------------------------------------------------------------------------------------------

export type SettingFields = Readonly<Record<string, z.ZodType>>;

/** The fields of shared/config's schema: setting name → zod schema of its value. */
export const settingFields: SettingFields = settingsSchema.shape;

/** Settings a field of the schema requires (it rejects "unset"). */
export function requiredSettings(fields: SettingFields = settingFields): string[] {
  return Object.entries(fields)
    .filter(([, field]) => !field.safeParse(undefined).success)
    .map(([name]) => name);
}

/** The value a setting has when unset (its default), or undefined. */
export function settingDefault(name: string, fields: SettingFields = settingFields): unknown {
  const result = fields[name].safeParse(undefined);
  return result.success ? result.data : undefined;
}

export function isKnownSetting(name: string, fields: SettingFields = settingFields): boolean {
  return Object.prototype.hasOwnProperty.call(fields, name);
}

const PLACEHOLDERS = ['placeholder', 'https://placeholder.invalid', '1', 'true', 'stplaceholder', '0 */5 * * * *', '{}', '[]'];

/** A value the field accepts, standing in for one only known at deployment time. */
function placeholderFor(name: string, fields: SettingFields = settingFields): string {
  const field = fields[name];
  if (!field) return 'placeholder';
  return PLACEHOLDERS.find((p) => field.safeParse(p).success) ?? 'placeholder';
}

/** Setting values as the app sees them: empty = unset, deployment-time values → placeholders. */
export function effectiveEnvironment(settings: Record<string, BicepValue>, fields: SettingFields = settingFields): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(settings)) {
    if (value === '' || value === null) continue;
    env[name] = isKnown(value) ? (typeof value === 'string' ? value : JSON.stringify(value)) : placeholderFor(name, fields);
  }
  return env;
}

/** Effective value of one setting: what is set (known), else its default. */
function effectiveSetting(settings: Record<string, BicepValue>, name: string, fields: SettingFields): { value: unknown; known: boolean } {
  const set = settings[name];
  if (set === undefined || set === '' || set === null) return { value: settingDefault(name, fields), known: true };
  if (!isKnown(set)) return { value: undefined, known: false };
  const parsed = fields[name].safeParse(typeof set === 'string' ? set : JSON.stringify(set));
  return parsed.success ? { value: parsed.data, known: true } : { value: undefined, known: false };
}

/** Queue names found in a parsed routes value: every string under a `queue` key. */
export function queuesNamedIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(queuesNamedIn);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (k === 'queue' && typeof v === 'string' ? [v] : queuesNamedIn(v)));
  }
  return [];
}

/** Settings naming queues: `*_QUEUE` and `*_ROUTES`. */
export function queueSettingNames(fields: SettingFields = settingFields): string[] {
  return Object.keys(fields).filter((n) => /_QUEUE$/.test(n) || /_ROUTES$/.test(n));
}

export function containerSettingNames(fields: SettingFields = settingFields): string[] {
  return Object.keys(fields).filter((n) => /_CONTAINER$/.test(n));
}

/** Queues the app uses with these settings (routes' queues and every *_QUEUE setting). */
export function queuesUsed(
  settings: Record<string, BicepValue>,
  fields: SettingFields = settingFields,
): { queues: string[]; problems: string[] } {
  const queues = new Set<string>();
  const problems: string[] = [];
  for (const name of queueSettingNames(fields)) {
    const { value, known } = effectiveSetting(settings, name, fields);
    if (!known) {
      problems.push(`${name}: its value must be known before deployment (a literal or parameter) so its queues can be provisioned`);
      continue;
    }
    const names = typeof value === 'string' ? [value] : queuesNamedIn(value);
    for (const q of names) queues.add(q);
  }
  return { queues: [...queues], problems };
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/**
 * Every problem of a deployment against the settings schema; empty = consistent. `fields` is the
 * schema's shape (tests pass an extended one to show new settings are picked up); the complete
 * load check always uses shared/config's loadConfig.
 */
export function checkDeployment(d: Deployment, fields: SettingFields = settingFields): string[] {
  const problems: string[] = [];
  const settings = d.appSettings;
  const names = Object.keys(settings);

  for (const name of names) {
    if (!isKnownSetting(name, fields) && !PLATFORM_SETTING.test(name)) {
      problems.push(`app setting ${name} is neither a setting of shared/config nor a platform setting`);
    }
  }
  for (const name of FLEX_REJECTED_SETTINGS) {
    if (name in settings)
      problems.push(`app setting ${name} is not supported on the Flex Consumption plan (runtime is set in functionAppConfig)`);
  }
  if ('AzureWebJobsStorage' in settings) {
    problems.push(
      'app setting AzureWebJobsStorage (connection string) must not be set: the storage account has shared-key access disabled; use AzureWebJobsStorage__* identity settings',
    );
  }
  for (const name of requiredSettings(fields)) {
    if (!(name in settings)) problems.push(`required setting ${name} is not set by infra/main.bicep`);
  }
  for (const [name, value] of Object.entries(settings)) {
    if (!isKnownSetting(name, fields) || value === '' || value === null || !isKnown(value)) continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const result = fields[name].safeParse(text);
    if (!result.success)
      problems.push(`app setting ${name} has a value the app rejects: ${result.error.issues.map((i) => i.message).join('; ')}`);
  }
  try {
    loadConfig(effectiveEnvironment(settings));
  } catch (err) {
    problems.push(`the app settings do not load: ${err instanceof Error ? err.message : String(err)}`);
  }

  const extra = d.param('extraAppSettings');
  if (extra && typeof extra === 'object' && !Array.isArray(extra)) {
    for (const name of Object.keys(extra)) {
      if (d.ownSettingNames.includes(name))
        problems.push(`extraAppSettings sets ${name}, which main.bicep sets itself (use its parameter)`);
    }
  }

  // Secrets only as Key Vault references.
  for (const name of SECRET_SETTINGS) {
    if (name === 'AzureWebJobsStorage' || !(name in settings)) continue;
    const value = settings[name];
    if (typeof value !== 'string' || !KEY_VAULT_REFERENCE.test(value.split(UNKNOWN_TEXT).join('vault'))) {
      problems.push(`secret setting ${name} must be a Key Vault reference (@Microsoft.KeyVault(...)), not a value`);
    }
  }
  const listed = d.param('keyVaultSecretSettings');
  if (Array.isArray(listed)) {
    for (const name of listed) {
      if (typeof name !== 'string' || !SECRET_SETTINGS.includes(name) || name === 'AzureWebJobsStorage') {
        problems.push(
          `keyVaultSecretSettings lists ${JSON.stringify(name)}, which is not a secret setting of shared/config (${SECRET_SETTINGS.filter((s) => s !== 'AzureWebJobsStorage').join(', ')})`,
        );
      }
    }
  }

  // Queues: every queue the settings name, with its poison queue.
  const provisioned = new Set(d.queues.filter((q): q is string => typeof q === 'string'));
  const used = queuesUsed(settings, fields);
  problems.push(...used.problems);
  for (const queue of used.queues) {
    if (!provisioned.has(queue)) problems.push(`queue ${queue} is used by the app but not provisioned by infra/main.bicep`);
    if (!provisioned.has(`${queue}-poison`)) problems.push(`poison queue ${queue}-poison is not provisioned by infra/main.bicep`);
  }
  for (const queue of d.queues) {
    if (typeof queue !== 'string' || !STORAGE_NAME.test(queue))
      problems.push(`provisioned queue name ${String(queue)} is not a valid (known) queue name`);
  }

  // Containers: every *_CONTAINER setting, and the deployment package container.
  const containers = new Set(d.containers.filter((c): c is string => typeof c === 'string'));
  for (const name of containerSettingNames(fields)) {
    const { value, known } = effectiveSetting(settings, name, fields);
    if (!known || typeof value !== 'string')
      problems.push(`${name}: its value must be known before deployment so the container can be provisioned`);
    else if (!containers.has(value)) problems.push(`blob container ${value} (${name}) is not provisioned by infra/main.bicep`);
  }
  const deploymentUrl = d.deploymentStorage;
  if (
    typeof deploymentUrl !== 'string' ||
    ![...containers].some((c) => c.replaceAll(UNKNOWN_TEXT, '').length > 0 && deploymentUrl.endsWith(c))
  ) {
    problems.push('the Function App deployment container (functionAppConfig.deployment.storage.value) is not a provisioned container');
  }
  return problems;
}

/**
 * The queues of the schema's default ENGAGE_ROUTES must be provisioned by main.bicep's defaults
 * (whatever main.bicep's own routes parameter says).
 */
export function checkDefaultRoutes(d: Deployment, fields: SettingFields = settingFields): string[] {
  const problems: string[] = [];
  const provisioned = new Set(d.queues);
  for (const name of queueSettingNames(fields).filter((n) => /_ROUTES$/.test(n))) {
    for (const queue of queuesNamedIn(settingDefault(name, fields))) {
      if (!provisioned.has(queue)) problems.push(`queue ${queue} of the default ${name} is not provisioned by infra/main.bicep`);
      if (!provisioned.has(`${queue}-poison`))
        problems.push(`poison queue ${queue}-poison of the default ${name} is not provisioned by infra/main.bicep`);
    }
  }
  return problems;
}

/** Problems of local.settings.sample.json against the schema; empty = consistent. */
export function checkLocalSettingsSample(values: Record<string, string>, fields: SettingFields = settingFields): string[] {
  const problems: string[] = [];
  for (const name of requiredSettings(fields)) {
    if (!(name in values)) problems.push(`required setting ${name} is missing from local.settings.sample.json`);
  }
  // Empty entries are "fill me in"; the rest must be valid and storage must be configured.
  const filled: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) filled[name] = value === '' ? placeholderFor(name, fields) : value;
  try {
    loadConfig(filled);
  } catch (err) {
    problems.push(`local.settings.sample.json does not load: ${err instanceof Error ? err.message : String(err)}`);
  }
  return problems;
}
