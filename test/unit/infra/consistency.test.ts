/**
 * infra/main.bicep ↔ the code's settings schema (shared/config), read from the code, never copied:
 * - every setting the schema requires is set by main.bicep and present in local.settings.sample.json;
 * - every app setting main.bicep sets is a known setting or a platform setting, with a valid value,
 *   secrets only as Key Vault references;
 * - every queue the routes and queue settings name (defaults included) is provisioned with its
 *   -poison queue; every container setting's container is provisioned.
 * Checked for main.bicep's defaults and for each parameter file. The mutation tests at the end
 * prove the checks fail when a setting or queue is removed from the Bicep.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SECRET_SETTINGS } from '../../../shared/config/settings';
import { indexBuiltApp } from '../../helpers/app';
import { METRICS } from '../../../shared/telemetry/names';
import { readParameterFile, type BicepValue } from './bicepModel';
import {
  checkDefaultRoutes,
  checkDeployment,
  checkLocalSettingsSample,
  effectiveEnvironment,
  INFRA_DIR,
  loadDeployment,
  MAIN_BICEP,
  queuesNamedIn,
  queueSettingNames,
  REPO_ROOT,
  requiredSettings,
  settingDefault,
  settingFields,
} from './deploymentChecks';

const AZD_ENV = { AZURE_ENV_NAME: 'test', AZURE_LOCATION: 'westeurope' };

const parameterFiles = readdirSync(join(INFRA_DIR, 'env'))
  .filter((f) => f.endsWith('.parameters.json'))
  .map((f) => join(INFRA_DIR, 'env', f));

const variants: [string, Record<string, BicepValue>][] = [
  ['main.bicep defaults', { environmentName: 'test' }],
  ['infra/main.parameters.json (azd, empty environment)', readParameterFile(join(INFRA_DIR, 'main.parameters.json'), AZD_ENV)],
  ...parameterFiles.map((f): [string, Record<string, BicepValue>] => [f.slice(REPO_ROOT.length + 1), readParameterFile(f)]),
];

describe('infra/main.bicep matches the settings schema of shared/config', () => {
  test('there are per-environment parameter files', () => {
    expect(parameterFiles.length).toBeGreaterThanOrEqual(1);
  });

  test.each(variants)('%s: settings, secrets, queues and containers are consistent', async (_name, params) => {
    const deployment = await loadDeployment(params);
    expect(checkDeployment(deployment)).toEqual([]);
  });

  test('the queues of the default ENGAGE_ROUTES (parsed by the schema) are provisioned with their poison queues', async () => {
    expect(queuesNamedIn(settingDefault('ENGAGE_ROUTES')).length).toBeGreaterThan(0);
    expect(checkDefaultRoutes(await loadDeployment({ environmentName: 'test' }))).toEqual([]);
  });

  test('every queue setting default is provisioned with its poison queue', async () => {
    const { queues: provisioned } = await loadDeployment({ environmentName: 'test' });
    const defaults = queueSettingNames()
      .map((name) => settingDefault(name))
      .flatMap((v) => (typeof v === 'string' ? [v] : queuesNamedIn(v)));
    expect(defaults.length).toBeGreaterThan(0);
    for (const q of defaults) {
      expect(provisioned).toContain(q);
      expect(provisioned).toContain(`${q}-poison`);
    }
  });

  test('settings added to the schema are picked up: a new required setting, queue or container', async () => {
    const extended = {
      ...settingFields,
      NEW_REQUIRED_URL: z.url(),
      NEW_THING_QUEUE: z.string().default('new-thing'),
      NEW_STATE_CONTAINER: z.string().default('new-state'),
    };
    expect(requiredSettings(extended)).toContain('NEW_REQUIRED_URL');
    const found = checkDeployment(await loadDeployment({ environmentName: 'test' }), extended);
    expect(found).toEqual([
      'required setting NEW_REQUIRED_URL is not set by infra/main.bicep',
      'queue new-thing is used by the app but not provisioned by infra/main.bicep',
      'poison queue new-thing-poison is not provisioned by infra/main.bicep',
      'blob container new-state (NEW_STATE_CONTAINER) is not provisioned by infra/main.bicep',
    ]);
    expect(checkLocalSettingsSample({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }, extended)).toEqual([
      'required setting NEW_REQUIRED_URL is missing from local.settings.sample.json',
    ]);
  });

  test('every queue a function triggers on is provisioned, with the settings main.bicep deploys', async () => {
    const deployment = await loadDeployment({ environmentName: 'test' });
    // The app as the host indexes it on Azure: %SETTING% in bindings resolved from these app settings.
    const { functions, errors } = await indexBuiltApp(effectiveEnvironment(deployment.appSettings));
    expect(errors).toEqual([]);
    const triggered = functions.filter((f) => f.trigger.type === 'queueTrigger').map((f) => String(f.trigger.queueName));
    expect(triggered.length).toBeGreaterThan(0);
    for (const queue of triggered) {
      expect(deployment.queues).toContain(queue);
      expect(deployment.queues).toContain(`${queue}-poison`);
    }
  });

  test('the webhook and health URLs main.bicep outputs are the routes of the functions', async () => {
    const { functions } = await indexBuiltApp(effectiveEnvironment((await loadDeployment({ environmentName: 'test' })).appSettings));
    const main = readFileSync(MAIN_BICEP, 'utf8');
    for (const [output, functionName] of [
      ['ENGAGE_WEBHOOK_URL', 'engageWebhook'],
      ['HEALTH_URL', 'health'],
    ] as const) {
      const route = new RegExp(
        `^output ${output} string = 'https://\\$\\{functionApp\\.outputs\\.defaultHostName\\}/api/([^']+)'$`,
        'm',
      ).exec(main)?.[1];
      const fn = functions.find((f) => f.name === functionName);
      expect(fn?.trigger.type).toBe('httpTrigger');
      expect(route).toBe(fn?.trigger.route);
    }
    // The deploy workflow reads this function's key for the listener's notificationUrl.
    expect(readFileSync(join(REPO_ROOT, '.github', 'workflows', 'deploy.yml'), 'utf8')).toContain('--function-name engageWebhook');
  });

  test('local.settings.sample.json has every required setting and loads', () => {
    const sample = JSON.parse(readFileSync(join(REPO_ROOT, 'local.settings.sample.json'), 'utf8')) as { Values: Record<string, string> };
    expect(checkLocalSettingsSample(sample.Values)).toEqual([]);
  });

  test('the alerts query the metrics the app records (shared/telemetry/names.ts), not log lines', () => {
    const alerts = readFileSync(join(INFRA_DIR, 'modules', 'alerts.bicep'), 'utf8');
    expect(alerts).toContain(`customMetrics | where name == "${METRICS.poisonDepth.name}"`);
    expect(alerts).toContain(`customMetrics | where name == "${METRICS.storageUnavailable.name}"`);
    expect(alerts).not.toContain('traces |');
  });

  test('production verifies signatures (enforce) once the webhook secret is referenced; until then the app default', async () => {
    const prod = readParameterFile(join(INFRA_DIR, 'env', 'prod.parameters.json'));
    const withSecret = await loadDeployment({ ...prod, keyVaultSecretSettings: ['ENGAGE_WEBHOOK_SECRET'] });
    expect(withSecret.appSettings.ENGAGE_SIGNATURE_MODE).toBe('enforce');
    expect(checkDeployment(withSecret)).toEqual([]);
    // Without the secret, enforce would make the app refuse to start: the app default (log) applies.
    expect((await loadDeployment(prod)).appSettings.ENGAGE_SIGNATURE_MODE).toBe('');
    // An environment that says otherwise keeps its choice (dev logs mismatches).
    const dev = readParameterFile(join(INFRA_DIR, 'env', 'dev.parameters.json'));
    expect((await loadDeployment({ ...dev, keyVaultSecretSettings: ['ENGAGE_WEBHOOK_SECRET'] })).appSettings.ENGAGE_SIGNATURE_MODE).toBe(
      'log',
    );
  });

  test('Key Vault secret names follow one rule in main.bicep and scripts/keyvault-secrets.js', async () => {
    const { keyVaultSecretName } = require('../../../scripts/keyvault-secrets.js') as { keyVaultSecretName: (s: string) => string };
    const secrets = SECRET_SETTINGS.filter((s) => s !== 'AzureWebJobsStorage');
    const { appSettings } = await loadDeployment({ environmentName: 'test', keyVaultSecretSettings: secrets });
    for (const name of secrets) {
      expect(String(appSettings[name])).toMatch(new RegExp(`;SecretName=${keyVaultSecretName(name)}\\)$`));
    }
  });
});

describe('the checks fail when the Bicep loses a setting or a queue', () => {
  const mainSource = readFileSync(MAIN_BICEP, 'utf8');
  const storageBicep = join(INFRA_DIR, 'modules', 'storage.bicep');
  const storageSource = readFileSync(storageBicep, 'utf8');

  /** main.bicep (or another file) with `from` replaced; fails if `from` is not there (infra changed shape). */
  function mutated(from: string | RegExp, to: string, path = MAIN_BICEP, source = mainSource): Record<string, string> {
    const changed = source.replace(from, to);
    expect(changed).not.toBe(source);
    return { [path]: changed };
  }

  async function problems(sources: Record<string, string>, params: Record<string, BicepValue> = {}): Promise<string[]> {
    return checkDeployment(await loadDeployment({ environmentName: 'test', ...params }, sources));
  }

  test('removing the storage identity setting', async () => {
    const found = await problems(mutated(/^\s*AzureWebJobsStorage__accountName:.*$/m, ''));
    expect(found.join('\n')).toMatch(/AzureWebJobsStorage: storage is not configured/);
  });

  test('removing a queue from the provisioned list', async () => {
    const found = await problems(
      mutated(
        'engageUnroutedQueue, notificationsQueue, noojeeEventsQueue, noojeeCommandsQueue]',
        'engageUnroutedQueue, notificationsQueue, noojeeEventsQueue]',
      ),
    );
    expect(found).toContain('queue noojee-call-commands is used by the app but not provisioned by infra/main.bicep');
    expect(found).toContain('poison queue noojee-call-commands-poison is not provisioned by infra/main.bicep');
  });

  test('removing a default route (its queue is no longer provisioned)', async () => {
    const deployment = await loadDeployment(
      { environmentName: 'test' },
      mutated(/^\s*\{ eventTypes: \['VISITOR'\], queue: 'engage-visitor' \}$/m, ''),
    );
    expect(deployment.queues).not.toContain('engage-visitor');
    expect(checkDefaultRoutes(deployment)).toEqual([
      'queue engage-visitor of the default ENGAGE_ROUTES is not provisioned by infra/main.bicep',
      'poison queue engage-visitor-poison of the default ENGAGE_ROUTES is not provisioned by infra/main.bicep',
    ]);
  });

  test('a route to a queue that is not provisioned', async () => {
    const routes = [{ eventTypes: ['DESK'], queue: 'desks-only' }];
    const found = await problems(
      mutated('var queueNames = union(engageRouteQueues, occupancyQueueNames, [', 'var queueNames = union(occupancyQueueNames, ['),
      { engageRoutes: routes },
    );
    expect(found).toContain('queue desks-only is used by the app but not provisioned by infra/main.bicep');
  });

  test('dropping the poison queues', async () => {
    const sources = mutated("flatten(map(queueNames, queue => [queue, '${queue}-poison']))", 'queueNames', storageBicep, storageSource);
    const found = await problems(sources);
    expect(found).toContain('poison queue notifications-v2-poison is not provisioned by infra/main.bicep');
  });

  test('removing a state container', async () => {
    const found = await problems(mutated('[checkpointContainer, journalContainer,', '[journalContainer,'));
    expect(found).toContain('blob container checkpoints (CHECKPOINT_CONTAINER) is not provisioned by infra/main.bicep');
  });

  test('an app setting the code does not know', async () => {
    const found = await problems({}, { extraAppSettings: { ENGAGE_BASEURL: 'https://typo.example' } });
    expect(found).toContain('app setting ENGAGE_BASEURL is neither a setting of shared/config nor a platform setting');
  });

  test('extraAppSettings overriding a setting main.bicep sets itself', async () => {
    const found = await problems({}, { extraAppSettings: { NOTIFICATIONS_QUEUE: 'elsewhere', AzureWebJobsStorage__clientId: 'x' } });
    expect(found).toContain('extraAppSettings sets NOTIFICATIONS_QUEUE, which main.bicep sets itself (use its parameter)');
    expect(found).toContain('extraAppSettings sets AzureWebJobsStorage__clientId, which main.bicep sets itself (use its parameter)');
  });

  test('a setting value the schema rejects', async () => {
    const found = await problems({}, { engageSignatureMode: 'strict' });
    expect(found.join('\n')).toMatch(/app setting ENGAGE_SIGNATURE_MODE has a value the app rejects/);
  });

  test('a secret given as a plain value instead of a Key Vault reference', async () => {
    const found = await problems({}, { extraAppSettings: { ENGAGE_PASSWORD: 'not-in-key-vault' } });
    expect(found).toContain('secret setting ENGAGE_PASSWORD must be a Key Vault reference (@Microsoft.KeyVault(...)), not a value');
  });

  test('a non-secret listed as a Key Vault secret', async () => {
    const found = await problems({}, { keyVaultSecretSettings: ['ENGAGE_BASE_URL'] });
    expect(found.join('\n')).toMatch(/keyVaultSecretSettings lists "ENGAGE_BASE_URL", which is not a secret setting/);
  });

  test('a connection string or a setting Flex Consumption rejects', async () => {
    const found = await problems(
      {},
      { extraAppSettings: { AzureWebJobsStorage: 'UseDevelopmentStorage=true', FUNCTIONS_WORKER_RUNTIME: 'node' } },
    );
    expect(found.join('\n')).toMatch(/AzureWebJobsStorage \(connection string\) must not be set/);
    expect(found.join('\n')).toMatch(/FUNCTIONS_WORKER_RUNTIME is not supported on the Flex Consumption plan/);
  });

  test('local.settings.sample.json without storage', () => {
    expect(checkLocalSettingsSample({ CHECKPOINT_CONTAINER: 'checkpoints' }).join('\n')).toMatch(/storage is not configured/);
  });

  test("the example consumer's OCCUPANCY_*_QUEUE queues are provisioned whatever the routes", async () => {
    const found = await problems(
      mutated('var queueNames = union(engageRouteQueues, occupancyQueueNames, [', 'var queueNames = union(engageRouteQueues, ['),
      {
        engageRoutes: [{ eventTypes: ['DESK'], queue: 'desks-only' }],
      },
    );
    expect(found).toContain('queue engage-deskprogression is used by the app but not provisioned by infra/main.bicep');
    expect(await problems({}, { engageRoutes: [{ eventTypes: ['DESK'], queue: 'desks-only' }] })).toEqual([]);
  });
});
