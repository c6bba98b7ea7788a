/**
 * Rules of the Flex Consumption plan that `az bicep build` does not know and Azure only enforces at
 * deployment: site properties and app settings the plan refuses never appear in the Bicep (in any
 * file, as a property key or as a setting name), and the site carries what the plan needs instead
 * (functionAppConfig with runtime, scale and deployment storage, on an FC1 plan).
 */
import { relative } from 'node:path';
import { objectProperties, parseBicepFile, propertiesNamed, where, type BicepFile } from './bicepModel';
import {
  FLEX_REJECTED_SETTINGS,
  FLEX_REJECTED_SITE_PROPERTIES,
  filesUnder,
  INFRA_DIR,
  loadDeployment,
  MAIN_BICEP,
  REPO_ROOT,
} from './deploymentChecks';
import type { Node } from 'web-tree-sitter';

const bicepFiles = filesUnder(INFRA_DIR, '.bicep');

/** Every string literal's text and every property key under `root`, with its location. */
function namesIn(root: Node, path: string): { name: string; at: string }[] {
  const found: { name: string; at: string }[] = [];
  const walk = (node: Node) => {
    if (node.type === 'object') for (const [key, value] of objectProperties(node)) found.push({ name: key, at: where(value, path) });
    if (node.type === 'string_content') found.push({ name: node.text, at: where(node, path) });
    for (const child of node.children) if (child) walk(child);
  };
  walk(root);
  return found;
}

/**
 * Problems of one Bicep file against the Flex Consumption rules: refused site properties inside any
 * Microsoft.Web/sites resource, refused app settings anywhere (a settings object can be built far from the site).
 */
function flexProblems(file: BicepFile): string[] {
  const problems: string[] = [];
  for (const site of file.resourcesOfType('Microsoft.Web/sites@')) {
    for (const { name, at } of namesIn(site.body, file.path)) {
      if (FLEX_REJECTED_SITE_PROPERTIES.includes(name))
        problems.push(`${relative(REPO_ROOT, at)}: site property ${name} is not supported on Flex Consumption`);
    }
  }
  for (const { name, at } of namesIn(file.tree.rootNode, file.path)) {
    if (FLEX_REJECTED_SETTINGS.includes(name))
      problems.push(`${relative(REPO_ROOT, at)}: app setting ${name} is not supported on Flex Consumption`);
  }
  return problems.sort();
}

describe('Flex Consumption rules', () => {
  test.each(bicepFiles.map((f) => [relative(REPO_ROOT, f)]))(
    '%s uses no site property or app setting Flex Consumption refuses',
    async (file) => {
      expect(flexProblems(await parseBicepFile(`${REPO_ROOT}/${file}`))).toEqual([]);
    },
  );

  test('the evaluated app settings contain none either (parameter files: consistency.test.ts)', async () => {
    const { appSettings } = await loadDeployment({ environmentName: 'test' });
    expect(Object.keys(appSettings).filter((n) => FLEX_REJECTED_SETTINGS.includes(n))).toEqual([]);
  });

  test('every site is a Linux function app on an FC1 plan, configured through functionAppConfig', async () => {
    let sites = 0;
    for (const path of bicepFiles) {
      const file = await parseBicepFile(path);
      for (const site of file.resourcesOfType('Microsoft.Web/sites@')) {
        sites++;
        const text = site.body.text;
        expect(text).toMatch(/kind: 'functionapp,linux'/);
        const config = propertiesNamed(site.body, ['functionAppConfig']);
        expect(config).toHaveLength(1);
        const keys = objectProperties(config[0][1])
          .map(([k]) => k)
          .sort();
        expect(keys).toEqual(['deployment', 'runtime', 'scaleAndConcurrency']);
        expect(
          file
            .resourcesOfType('Microsoft.Web/serverfarms@')
            .map((p) => p.body.text)
            .join('\n'),
        ).toMatch(/name: 'FC1'[\s\S]*tier: 'FlexConsumption'/);
      }
    }
    expect(sites).toBe(1);
  });

  test('the check finds a refused property or setting wherever it is written', async () => {
    const source = [
      "resource site 'Microsoft.Web/sites@2024-04-01' = {",
      "  name: 'x'",
      "  properties: { siteConfig: { ftpsState: 'Disabled', appSettings: [ { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'node' } ] } }",
      '}',
      "var settings = { WEBSITE_RUN_FROM_PACKAGE: '1' }",
    ].join('\n');
    const problems = flexProblems(await parseBicepFile(MAIN_BICEP.replace('main.bicep', 'probe.bicep'), source));
    expect(problems).toEqual([
      expect.stringMatching(/probe\.bicep:3:\d+: site property ftpsState is not supported/),
      expect.stringMatching(/probe\.bicep:3:\d+: app setting FUNCTIONS_WORKER_RUNTIME is not supported/),
      expect.stringMatching(/probe\.bicep:5:\d+: app setting WEBSITE_RUN_FROM_PACKAGE is not supported/),
    ]);
  });
});
