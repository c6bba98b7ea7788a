/**
 * Offline Bicep checks beside the real compiler (bicepCompiler.test.ts): every .bicep file parses, modules
 * exist, and the offline evaluator (which the Flex Consumption, RBAC, KQL and naming rules use) reads Bicep
 * correctly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BicepScope, isKnown, objectProperty, parseBicepFile, readParameterFile, UNKNOWN, UNKNOWN_TEXT } from './bicepModel';
import { filesUnder, INFRA_DIR, MAIN_BICEP, REPO_ROOT } from './deploymentChecks';

const bicepFiles = filesUnder(INFRA_DIR, '.bicep');

describe('infra/**/*.bicep', () => {
  test('there is a main.bicep and modules', () => {
    expect(bicepFiles).toContain(MAIN_BICEP);
    expect(bicepFiles.length).toBeGreaterThan(1);
  });

  test.each(bicepFiles.map((f) => [relative(REPO_ROOT, f)]))('%s parses without syntax errors', async (file) => {
    const parsed = await parseBicepFile(join(REPO_ROOT, file));
    expect(parsed.errors).toEqual([]);
  });

  test('every module main.bicep references exists and is a parsed file', async () => {
    const main = await parseBicepFile(MAIN_BICEP);
    expect(main.modules.size).toBeGreaterThan(0);
    for (const [, mod] of main.modules) {
      expect(existsSync(mod.path)).toBe(true);
      expect(bicepFiles).toContain(mod.path);
    }
  });

  // Module parameters and outputs (BCP035/BCP037/BCP053/BCP089) are the real compiler's: bicepCompiler.test.ts.

  test('no .bicepparam files: tree-sitter-bicep cannot parse `param x = value` (JSON parameter files instead)', async () => {
    expect(filesUnder(INFRA_DIR, '.bicepparam')).toEqual([]);
    // The limitation this rule is about, so the rule can go when the grammar learns it:
    const parsed = await parseBicepFile('probe.bicepparam', "using './main.bicep'\nparam environmentName = 'dev'\n");
    expect(parsed.errors.join('\n')).toMatch(/probe\.bicepparam:2:\d+: /);
  });

  test('a broken file is reported with file:line:column', async () => {
    const source =
      "param name string\n\nresource st 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: name\n  location: 'x'\n  properties: {\n    allowSharedKeyAccess: false\n}\n";
    const parsed = await parseBicepFile('broken.bicep', source);
    expect(parsed.errors.length).toBeGreaterThan(0);
    for (const error of parsed.errors) expect(error).toMatch(/^broken\.bicep:\d+:\d+: /);
    const garbage = await parseBicepFile('garbage.bicep', "param a string = 'x'\nvar b = a +* 2\n");
    expect(garbage.errors[0]).toMatch(/^garbage\.bicep:2:\d+: /);
  });
});

describe('parameter files', () => {
  const parameterFiles = [join(INFRA_DIR, 'main.parameters.json'), ...filesUnder(join(INFRA_DIR, 'env'), '.parameters.json')];

  // Names and types of the parameters they set, and the required ones they miss, are checked by the real
  // compiler (`bicep build-params` on their .bicepparam equivalent): bicepCompiler.test.ts.
  test.each(parameterFiles.map((f) => [relative(REPO_ROOT, f)]))('%s is a deployment parameter file', (file) => {
    const doc = JSON.parse(readFileSync(join(REPO_ROOT, file), 'utf8')) as { $schema: string };
    expect(doc.$schema).toMatch(/deploymentParameters\.json#$/);
  });

  test('azd ${VAR} references are substituted from the environment, unset = empty', () => {
    const values = readParameterFile(join(INFRA_DIR, 'main.parameters.json'), { AZURE_ENV_NAME: 'dev' });
    expect(values.environmentName).toBe('dev');
    expect(values.engageBaseUrl).toBe('');
  });
});

describe('offline Bicep evaluator', () => {
  async function scope(source: string, params: Record<string, string | string[]> = {}) {
    return new BicepScope(await parseBicepFile('test.bicep', source), params);
  }

  test('literals, params, vars, interpolation and string functions', async () => {
    const s = await scope(
      [
        "param env string = 'dev'",
        'param size int = 2',
        "var name = toLower('APP-${env}')",
        "var escaped = 'it\\'s'",
        "var settings = union({ A: 'x', B: name }, { B: 'override' }, {})",
        "var n = empty('') ? size * 3 : 0",
        "var flags = !empty(env) && contains(['dev', 'prod'], env)",
      ].join('\n'),
    );
    expect(s.variable('name')).toBe('app-dev');
    expect(s.variable('escaped')).toBe("it's");
    expect(s.variable('settings')).toEqual({ A: 'x', B: 'override' });
    expect(s.variable('n')).toBe(6);
    expect(s.variable('flags')).toBe(true);
  });

  test('lambdas: map with a member access body, flatten, toObject, filter; union of arrays dedupes', async () => {
    const s = await scope(
      [
        "param routes array = [ { queue: 'a' }, { queue: 'b' } ]",
        "var queues = union(map(routes, route => route.queue), ['b', 'c'])",
        "var withPoison = flatten(map(queues, q => [q, '${q}-poison']))",
        "var refs = toObject(['X_Y'], n => n, n => toLower(replace(n, '_', '-')))",
        'var long = filter(queues, (q, i) => i > 0)',
      ].join('\n'),
    );
    expect(s.variable('queues')).toEqual(['a', 'b', 'c']);
    expect(s.variable('withPoison')).toEqual(['a', 'a-poison', 'b', 'b-poison', 'c', 'c-poison']);
    expect(s.variable('refs')).toEqual({ X_Y: 'x-y' });
    expect(s.variable('long')).toEqual(['b', 'c']);
  });

  test('deployment-time values are UNKNOWN, and keep the known text of strings', async () => {
    const s = await scope(
      [
        "resource st 'Microsoft.Storage/storageAccounts@2023-05-01' existing = { name: 'x' }",
        'var token = uniqueString(resourceGroup().id)',
        "var ref = '@Microsoft.KeyVault(VaultName=kv-${token};SecretName=s)'",
        'var endpoint = st.properties.primaryEndpoints.blob',
      ].join('\n'),
    );
    expect(s.variable('token')).toBe(UNKNOWN);
    expect(s.variable('endpoint')).toBe(UNKNOWN);
    expect(s.variable('ref')).toBe(`@Microsoft.KeyVault(VaultName=kv-${UNKNOWN_TEXT};SecretName=s)`);
    expect(isKnown(s.variable('ref'))).toBe(false);
  });

  test('resource loops and conditions give the names deployed', async () => {
    const s = await scope(
      [
        "param names array = ['q1', 'q2']",
        'param on bool = false',
        "resource qs 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for n in names: { name: '${n}-x' }]",
        "resource maybe 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = if (on) { name: 'never' }",
      ].join('\n'),
    );
    expect(s.resourceNames('qs')).toEqual(['q1-x', 'q2-x']);
    expect(s.resourceNames('maybe')).toEqual([]);
  });

  test('module parameters are evaluated in the caller', async () => {
    const s = await scope(
      "param env string = 'dev'\nmodule m './modules/x.bicep' = {\n  name: 'm'\n  params: {\n    label: 'app-${env}'\n  }\n}\n",
    );
    expect(s.moduleParams('m')).toEqual({ label: 'app-dev' });
  });

  test('what it cannot read fails loudly, with the location', async () => {
    const s = await scope("var x = padLeft('a', 3, '0')\nvar y = missing\n");
    expect(() => s.variable('x')).toThrow(/test\.bicep:1:9: function padLeft\(\) is not supported/);
    expect(() => s.variable('y')).toThrow(/unknown symbol missing/);
  });
});

describe('azd quickstart conventions and linter rules', () => {
  test('main.bicep deploys at subscription scope and creates the resource group its modules go to', async () => {
    const main = await parseBicepFile(MAIN_BICEP);
    expect(main.tree.rootNode.text).toMatch(/^targetScope = 'subscription'$/m);
    expect(main.resourcesOfType('Microsoft.Resources/resourceGroups@').map((r) => r.name)).toEqual(['rg']);
    for (const [name, mod] of main.modules) expect({ name, scope: objectProperty(mod.body, 'scope')?.text }).toEqual({ name, scope: 'rg' });
  });

  test('location only accepts Flex Consumption regions, and azd prompts for one', async () => {
    const text = readFileSync(MAIN_BICEP, 'utf8');
    const decl = /((?:@[^\n]*\n|\s+'[a-z0-9]+'\n|\]\)\n|\s+[a-z]+: [^\n]*\n|\s+\}\n|\}\)\n)+)param location string/.exec(text)?.[1] ?? '';
    const allowed = [...(/@allowed\(\[([^\]]*)\]\)/.exec(decl)?.[1] ?? '').matchAll(/'([a-z0-9]+)'/g)].map((m) => m[1]);
    expect(allowed).toEqual(expect.arrayContaining(['westeurope', 'northeurope', 'eastus', 'eastus2', 'uksouth', 'australiaeast']));
    expect(allowed.length).toBeGreaterThan(20);
    expect(decl).toMatch(/@metadata\(\{\s*azd: \{\s*type: 'location'\s*\}\s*\}\)/);
  });

  test('azd passes the operator principal type (a service principal in pipelines), defaulting to User', () => {
    const doc = JSON.parse(readFileSync(join(INFRA_DIR, 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: unknown }>;
    };
    expect(doc.parameters.operatorPrincipalType?.value).toBe('${AZURE_PRINCIPAL_TYPE=User}');
    expect(
      readParameterFile(join(INFRA_DIR, 'main.parameters.json'), { AZURE_PRINCIPAL_TYPE: 'ServicePrincipal' }).operatorPrincipalType,
    ).toBe('ServicePrincipal');
  });

  test('no Azure host names in any .bicep text (no-hardcoded-env-urls also flags descriptions before Bicep 0.38)', () => {
    // The linter rule's default disallowed hosts.
    const hosts = [
      'management.core.windows.net',
      'gallery.azure.com',
      'management.azure.com',
      'database.windows.net',
      'core.windows.net',
      'login.microsoftonline.com',
      'graph.windows.net',
      'trafficmanager.net',
      'vault.azure.net',
      'datalake.azure.net',
      'azuredatalakestore.net',
      'azuredatalakeanalytics.net',
      'api.loganalytics.io',
      'asazure.windows.net',
      'region.asazure.windows.net',
      'batch.core.windows.net',
    ];
    const found = bicepFiles.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => hosts.filter((h) => line.includes(h)).map((h) => `${relative(REPO_ROOT, f)}:${i + 1}: ${h}`)),
    );
    expect(found).toEqual([]);
  });
});
