/**
 * The GitHub workflows cannot run here: check their structure (strict YAML subset reader), the
 * steps the delivery needs and their order, and that what they reference exists and matches the
 * code (scripts, parameter files, the app's secret settings).
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SECRET_SETTINGS } from '../../../shared/config';
import { REPO_ROOT } from './deploymentChecks';
import { parseYaml, YamlError, type YamlValue } from './miniYaml';

type Map = { [key: string]: YamlValue };
interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Map;
  env?: Map;
  id?: string;
}

function load(file: string): Map {
  const doc = parseYaml(readFileSync(join(REPO_ROOT, file), 'utf8'), file);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file}: not a map`);
  return doc;
}

function jobs(doc: Map): [string, Map][] {
  return Object.entries(doc.jobs as Map).map(([name, job]) => [name, job as Map]);
}

function steps(job: Map): Step[] {
  return job.steps as unknown as Step[];
}

/** Every string in a YAML value. */
function strings(value: YamlValue): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

const WORKFLOWS = ['.github/workflows/ci.yml', '.github/workflows/deploy.yml'];

describe('workflow files', () => {
  test.each(WORKFLOWS)('%s is well-formed: jobs with runs-on and steps, each step one action or script', (file) => {
    const doc = load(file);
    expect(typeof doc.name).toBe('string');
    expect(doc.on).toBeTruthy();
    expect(jobs(doc).length).toBeGreaterThan(0);
    for (const [, job] of jobs(doc)) {
      expect(job['runs-on']).toBe('ubuntu-latest');
      expect(typeof job['timeout-minutes']).toBe('number');
      for (const step of steps(job)) {
        expect(typeof step.name).toBe('string');
        expect(Boolean(step.uses) !== Boolean(step.run)).toBe(true);
        if (step.uses) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@v\d+(\.\d+)*$/);
      }
    }
    for (const text of strings(doc)) {
      expect((text.match(/\$\{\{/g) ?? []).length).toBe((text.match(/\}\}/g) ?? []).length);
    }
  });

  test('the YAML reader rejects what it does not understand, with the line', () => {
    expect(() => parseYaml('a:\n\tb: 1\n', 'x.yml')).toThrow(/x\.yml:2: tab/);
    expect(() => parseYaml('a: 1\na: 2\n', 'x.yml')).toThrow(/x\.yml:2: duplicate key a/);
    expect(() => parseYaml('a:\n  b: 1\n c: 2\n', 'x.yml')).toThrow(YamlError);
    expect(() => parseYaml('a: &anchor 1\n', 'x.yml')).toThrow(/anchors/);
    expect(parseYaml('a:\n  - b: 1\n    c: [x, "y"]\n  - run: |\n      echo 1\n      echo 2\nd: true # note\n')).toEqual({
      a: [{ b: 1, c: ['x', 'y'] }, { run: 'echo 1\necho 2\n' }],
      d: true,
    });
  });
});

describe('ci.yml', () => {
  const ci = load('.github/workflows/ci.yml');
  const all = jobs(ci).flatMap(([, job]) => steps(job));
  const runs = all.map((s) => s.run ?? '').join('\n');

  test('runs on pushes and pull requests with read-only permissions', () => {
    expect(Object.keys(ci.on as Map)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    expect(ci.permissions).toEqual({ contents: 'read' });
  });

  test('installs from the lockfile, builds and runs the whole test suite on Node 22', () => {
    const test = steps((ci.jobs as Map).test as Map);
    const order = ['npm ci', 'npm run build', 'npm test'].map((cmd) => test.findIndex((s) => (s.run ?? '').startsWith(cmd)));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(test.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version']).toBe(22);
  });

  test('builds and lints every Bicep file with the Bicep CLI', () => {
    expect(runs).toMatch(/az bicep install/);
    expect(runs).toMatch(/for file in infra\/main\.bicep infra\/modules\/\*\.bicep; do[\s\S]*az bicep build --file "\$file"/);
    expect(runs).toMatch(/az bicep lint --file "\$file"/);
  });
});

describe('deploy.yml', () => {
  const deploy = load('.github/workflows/deploy.yml');
  const [[, job]] = jobs(deploy) as [[string, Map]];
  const list = steps(job);
  const index = (predicate: (s: Step) => boolean, what: string) => {
    const i = list.findIndex(predicate);
    if (i < 0) throw new Error(`deploy.yml has no step that ${what}`);
    return i;
  };

  test('logs in with OpenID Connect (id-token permission, no stored credentials)', () => {
    expect(deploy.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
    const login = list[index((s) => s.uses === 'azure/login@v2', 'uses azure/login@v2')]!;
    expect(Object.keys(login.with!).sort()).toEqual(['client-id', 'subscription-id', 'tenant-id']);
    expect(strings(deploy).join('\n')).not.toMatch(/creds|client-secret|publish-profile/);
  });

  test('deploys infra, secrets, code, checks health, then reconciles listeners, in that order', () => {
    const order = [
      index((s) => s.uses === 'azure/login@v2', 'logs in'),
      index((s) => /az deployment group create[\s\S]*--template-file infra\/main\.bicep[\s\S]*"@infra\/env\/\$ENVIRONMENT\.parameters\.json"/.test(s.run ?? ''), 'deploys infra/main.bicep'),
      index((s) => /scripts\/keyvault-secrets\.js push --vault/.test(s.run ?? ''), 'stores secrets'),
      index((s) => /scripts\/package-function-app\.sh/.test(s.run ?? ''), 'packages the app'),
      index((s) => s.uses === 'Azure/functions-action@v1', 'deploys code'),
      index((s) => /curl --fail/.test(s.run ?? ''), 'waits for health'),
      index((s) => /node dist\/cli\/index\.js listeners reconcile --file "\$RUNNER_TEMP\/listeners\.json"/.test(s.run ?? ''), 'reconciles listeners'),
    ];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const code = list.find((s) => s.uses === 'Azure/functions-action@v1')!;
    expect(code.with).toMatchObject({ sku: 'flexconsumption', 'remote-build': false, package: '.deploy/package' });
  });

  test('deploys only what CI passed: after a successful ci run on main, or on demand', () => {
    const on = deploy.on as Map;
    expect(Object.keys(on).sort()).toEqual(['workflow_dispatch', 'workflow_run']);
    expect(on.workflow_run).toEqual({ workflows: ['ci'], types: ['completed'], branches: ['main'] });
    expect(load('.github/workflows/ci.yml').name).toBe('ci');
    expect(job.if).toBe("github.event_name == 'workflow_dispatch' || github.event.workflow_run.conclusion == 'success'");
    expect(list[0]!.with?.ref).toBe('${{ github.event.workflow_run.head_sha || github.sha }}');
  });

  test('every environment it offers has a parameter file', () => {
    const options = (((deploy.on as Map).workflow_dispatch as Map).inputs as Map).environment as Map;
    expect((options.options as string[]).length).toBeGreaterThan(0);
    for (const env of options.options as string[]) expect(existsSync(join(REPO_ROOT, 'infra', 'env', `${env}.parameters.json`))).toBe(true);
    expect(options.default).toBe('dev');
  });

  test('passes every secret setting of the app (and nothing else) from GitHub secrets', () => {
    const env = job.env as Map;
    const mapped = Object.entries(env).filter(([, v]) => typeof v === 'string' && v.includes('secrets.'));
    for (const [name, value] of mapped) expect(value).toBe(`\${{ secrets.${name} }}`);
    expect(mapped.map(([name]) => name).sort()).toEqual(SECRET_SETTINGS.filter((s) => s !== 'AzureWebJobsStorage').sort());
  });

  test('the function key is masked, kept out of the repository and the rendered file is removed', () => {
    const reconcile = list.find((s) => /listeners reconcile/.test(s.run ?? ''))!;
    const run = reconcile.run!;
    expect(run).toMatch(/echo "::add-mask::\$key"/);
    expect(run.indexOf('::add-mask::')).toBeLessThan(run.indexOf('ENGAGE_NOTIFICATION_URL'));
    expect(run).toMatch(/node scripts\/render-listeners\.js "\$LISTENERS_TEMPLATE" "\$RUNNER_TEMP\/listeners\.json"/);
    expect(run.indexOf('render-listeners')).toBeLessThan(run.indexOf('listeners reconcile'));
    expect(run).toMatch(/rm -f "\$RUNNER_TEMP\/listeners\.json"/);
    expect(reconcile.env?.LISTENERS_TEMPLATE).toBe("${{ vars.ENGAGE_LISTENERS_FILE || format('infra/listeners/{0}.json', inputs.environment || 'dev') }}");
  });

  test('the scripts it runs exist and are executable', () => {
    for (const script of ['scripts/keyvault-secrets.js', 'scripts/package-function-app.sh', 'scripts/render-listeners.js']) {
      expect(() => accessSync(join(REPO_ROOT, script), constants.X_OK)).not.toThrow();
    }
  });
});

describe('azure.yaml (azd)', () => {
  test('deploys the project as the function service `api` with infra/main.bicep', () => {
    const azd = load('azure.yaml');
    expect(azd.infra).toEqual({ provider: 'bicep', path: 'infra', module: 'main' });
    expect((azd.services as Map).api).toEqual({ project: '.', language: 'ts', host: 'function' });
    // functionapp.bicep tags the site so azd finds it.
    expect(readFileSync(join(REPO_ROOT, 'infra', 'modules', 'functionapp.bicep'), 'utf8')).toContain("'azd-service-name': 'api'");
  });
});
