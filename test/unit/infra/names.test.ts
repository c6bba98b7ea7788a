/**
 * Resource names main.bicep derives from environmentName (Bicep has no pattern decorator): for any
 * name its decorators allow, including `_`, `.`, upper case and the longest, every derived name
 * keeps Azure's naming rules, so a first deployment is not refused for a name.
 */
import { BicepScope, parseBicepFile, UNKNOWN_TEXT, type BicepValue } from './bicepModel';
import { loadDeployment, MAIN_BICEP, STORAGE_NAME } from './deploymentChecks';

/** uniqueString() is 13 lower-case letters and digits. */
const TOKEN = 'abcdefghij123';

async function names(environmentName: string): Promise<Record<string, string>> {
  const main = await parseBicepFile(MAIN_BICEP);
  const scope = new BicepScope(main, { environmentName, location: 'westeurope' });
  const text = (v: BicepValue) => String(v).replaceAll(UNKNOWN_TEXT, TOKEN);
  const module = (name: string, param: string) => text(scope.moduleParams(name)[param]);
  return {
    resourceGroup: text(scope.resourceNames('rg')[0]),
    functionApp: text(scope.variable('appName')),
    plan: module('functionApp', 'planName'),
    identity: module('identity', 'name'),
    logAnalytics: module('monitoring', 'logAnalyticsName'),
    applicationInsights: module('monitoring', 'applicationInsightsName'),
    deploymentContainer: text(scope.variable('deploymentContainer')),
    alertPrefix: module('alerts', 'namePrefix'),
  };
}

// Azure naming rules (Microsoft.Web sites: 2-60, letters, digits, hyphens, not at the ends;
// resource groups: 1-90; managed identities 3-128; Log Analytics 4-63; containers: STORAGE_NAME).
const RULES: Record<string, RegExp> = {
  resourceGroup: /^[-\w.()]{0,89}[-\w()]$/,
  functionApp: /^(?=.{2,60}$)[a-z0-9][a-z0-9-]*[a-z0-9]$/,
  plan: /^(?=.{1,60}$)[a-z0-9][a-z0-9-]*$/,
  identity: /^(?=.{3,128}$)[a-z0-9][a-z0-9_-]*$/,
  logAnalytics: /^(?=.{4,63}$)[a-z0-9][a-z0-9-]*[a-z0-9]$/,
  applicationInsights: /^(?=.{1,255}$)[^%&\\?/]+$/,
  deploymentContainer: STORAGE_NAME,
  alertPrefix: /^[a-z0-9-]+$/,
};

describe('names derived from environmentName', () => {
  test.each(['dev', 'prod', 'Dev_Test.1', 'x1', 'abcdefghijklmnopqrstuvwx', 'dev-', 'my--env', 'a_', '-x-', 'a__b'])(
    '%s gives valid Azure resource names',
    async (environmentName) => {
      const derived = await names(environmentName);
      expect(Object.entries(derived).filter(([kind, name]) => !RULES[kind].test(name))).toEqual([]);
    },
  );

  test('separators are normalised: no `--`, no leading or trailing `-`', async () => {
    expect((await names('my--env')).resourceGroup).toBe('rg-my-env');
    expect((await names('dev-')).functionApp).toBe(`func-dev-${TOKEN}`);
    expect((await names('a_')).identity).toBe(`id-a-${TOKEN}`);
  });

  test('the decorators bound the length (24) so the longest name still fits', async () => {
    const main = await parseBicepFile(MAIN_BICEP);
    const decl = main.tree.rootNode.text.match(
      /@minLength\((\d+)\)\n@maxLength\((\d+)\)\n@description\([^\n]*\)\nparam environmentName string/,
    );
    expect(decl?.slice(1)).toEqual(['2', '24']);
  });

  test('the azd-env-name tag keeps the name as given', async () => {
    const { appSettings } = await loadDeployment({ environmentName: 'Dev_Test.1' });
    expect(appSettings).toBeDefined();
    const scope = new BicepScope(await parseBicepFile(MAIN_BICEP), { environmentName: 'Dev_Test.1' });
    expect(scope.variable('tags')).toEqual({ 'azd-env-name': 'Dev_Test.1', application: 'engage-bridge' });
  });
});
