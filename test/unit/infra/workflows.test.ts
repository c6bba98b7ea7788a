/**
 * The GitHub workflows cannot run here: check their structure (read with the `yaml` package,
 * duplicate keys and syntax errors refused), the steps the delivery needs and their order, the
 * rules GitHub and Azure impose (fork guard, secrets per step, a fresh OIDC login before Key Vault,
 * restart after the secrets, actions pinned to commit SHAs), and that what they reference exists
 * and matches the code (scripts, parameter files, the app's secret settings).
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SECRET_SETTINGS } from '../../../shared/config/settings';
import { REPO_ROOT } from './deploymentChecks';
import { loadYaml, parseYaml, type YamlValue } from './yamlFile';

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
  return loadYaml(join(REPO_ROOT, file), file);
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

/** A GitHub expression reading a secret. */
const SECRET_EXPR = /\$\{\{\s*secrets\./;

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
        if (step.uses) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@\S+$/);
      }
    }
    for (const text of strings(doc)) {
      expect((text.match(/\$\{\{/g) ?? []).length).toBe((text.match(/\}\}/g) ?? []).length);
    }
  });

  test.each(WORKFLOWS)('%s pins every action to a commit SHA, with its version in a comment', (file) => {
    // Read from the text: the version comment is not part of the YAML value.
    const uses = [...readFileSync(join(REPO_ROOT, file), 'utf8').matchAll(/^\s*(?:-\s+)?uses:\s*(.+)$/gm)].map((m) => m[1].trim());
    expect(uses.length).toBeGreaterThan(0);
    const unpinned = uses.filter((u) => !/^[\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/.test(u));
    expect(unpinned).toEqual([]);
    if (file.endsWith('deploy.yml')) expect(uses).toContain('Azure/functions-action@c5060b3b8bb1ebbcb531abd00c822ecbaa8ea656 # v1.5.7');
  });

  test('the YAML reader refuses duplicate keys and syntax errors, with the line', () => {
    expect(() => parseYaml('a: 1\na: 2\n', 'x.yml')).toThrow(/^x\.yml:2:\d+: .*unique/i);
    expect(() => parseYaml('a:\n  b: 1\n c: 2\n', 'x.yml')).toThrow(/^x\.yml:\d+:\d+: /);
    expect(() => parseYaml('- a\nb: 1\n', 'x.yml')).toThrow(/^x\.yml:2:\d+: /);
    expect(parseYaml('on:\n  push: {}\na:\n  - run: |\n      echo 1\n      echo 2\nd: true # note\n', 'x.yml')).toEqual({
      on: { push: {} },
      a: [{ run: 'echo 1\necho 2\n' }],
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

  test('builds and lints every Bicep file with the pinned Bicep CLI from NuGet, a missing compiler or a warning failing', () => {
    const bicep = steps((ci.jobs as Map).bicep as Map);
    expect(runs).toMatch(/BICEP_BIN=\$\(scripts\/bicep\/install\.sh\)/);
    const check = bicep.find((s) => /jest test\/unit\/infra\/bicepCompiler\.test\.ts/.test(s.run ?? ''));
    expect(check?.env).toEqual({ BICEP_REQUIRED: '1' });
  });
});

describe('deploy.yml', () => {
  const deploy = load('.github/workflows/deploy.yml');
  const [[, job]] = jobs(deploy) as [[string, Map]];
  const list = steps(job);
  const isLogin = (s: Step) => (s.uses ?? '').startsWith('azure/login@');
  const isFunctionsAction = (s: Step) => (s.uses ?? '').startsWith('Azure/functions-action@');
  const index = (predicate: (s: Step) => boolean, what: string) => {
    const i = list.findIndex(predicate);
    if (i < 0) throw new Error(`deploy.yml has no step that ${what}`);
    return i;
  };

  test('logs in with OpenID Connect (id-token permission, no stored credentials)', () => {
    expect(deploy.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
    const logins = list.filter(isLogin);
    expect(logins.length).toBeGreaterThan(0);
    for (const login of logins) expect(Object.keys(login.with!).sort()).toEqual(['client-id', 'subscription-id', 'tenant-id']);
    expect(strings(deploy).join('\n')).not.toMatch(/creds|client-secret|publish-profile/);
  });

  test('deploys infra, secrets, code, refreshes and checks the references and health, then reconciles listeners, in that order', () => {
    const order = [
      index(isLogin, 'logs in'),
      index(
        (s) =>
          /az deployment sub create[\s\S]*--location "\$AZURE_LOCATION"[\s\S]*--template-file infra\/main\.bicep[\s\S]*"@infra\/env\/\$ENVIRONMENT\.parameters\.json"/.test(
            s.run ?? '',
          ),
        'deploys infra/main.bicep at subscription scope',
      ),
      index((s) => /scripts\/keyvault-secrets\.js push --vault/.test(s.run ?? ''), 'stores secrets'),
      index((s) => /scripts\/package-function-app\.sh/.test(s.run ?? ''), 'packages the app'),
      index(isFunctionsAction, 'deploys code'),
      index((s) => /scripts\/keyvault-secrets\.js check-references/.test(s.run ?? ''), 'checks the Key Vault references'),
      index((s) => /curl --fail/.test(s.run ?? ''), 'waits for health'),
      index(
        (s) => /node dist\/cli\/index\.js listeners reconcile --file "\$RUNNER_TEMP\/listeners\.json"/.test(s.run ?? ''),
        'reconciles listeners',
      ),
    ];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const code = list.find(isFunctionsAction)!;
    expect(code.with).toMatchObject({ sku: 'flexconsumption', 'remote-build': false, package: '.deploy/package' });
  });

  test("deploys only what CI passed on a push to this repository (never a fork's branch named main), or on demand", () => {
    const on = deploy.on as Map;
    expect(Object.keys(on).sort()).toEqual(['workflow_dispatch', 'workflow_run']);
    expect(on.workflow_run).toEqual({ workflows: ['ci'], types: ['completed'], branches: ['main'] });
    expect(load('.github/workflows/ci.yml').name).toBe('ci');
    const condition = String(job.if).replace(/\s+/g, ' ').trim();
    expect(condition).toBe(
      "github.event_name == 'workflow_dispatch' || (github.event.workflow_run.conclusion == 'success' && github.event.workflow_run.event == 'push' && github.event.workflow_run.head_repository.full_name == github.repository)",
    );
    expect(list[0].with?.ref).toBe('${{ github.event.workflow_run.head_sha || github.sha }}');
    expect(list[0].with?.['persist-credentials']).toBe(false);
  });

  test('logs in again (a fresh OIDC assertion) after the infra deployment, before the first Key Vault call', () => {
    const infra = index((s) => /az deployment sub create/.test(s.run ?? ''), 'deploys infra');
    const firstKeyVault = index((s) => /keyvault-secrets\.js push|az keyvault /.test(s.run ?? ''), 'uses Key Vault');
    const logins = list.flatMap((s, i) => (isLogin(s) ? [i] : []));
    expect(logins.some((i) => i < infra)).toBe(true);
    expect(logins.some((i) => i > infra && i < firstKeyVault)).toBe(true);
    // Nothing slow between that login and the Key Vault step.
    const relogin = Math.max(...logins.filter((i) => i < firstKeyVault));
    expect(firstKeyVault - relogin).toBe(1);
  });

  test('after storing the secrets, asks the platform to refresh the references (no restart) and fails unless every one resolved', () => {
    const push = index((s) => /keyvault-secrets\.js push/.test(s.run ?? ''), 'stores secrets');
    const refresh = index((s) => /keyvault-secrets\.js check-references/.test(s.run ?? ''), 'refreshes and checks');
    expect(refresh).toBeGreaterThan(push);
    expect(list[refresh].run!).toMatch(
      /check-references --resource-group "\$AZURE_RESOURCE_GROUP" --app "\$APP" --settings "\$SECRET_SETTINGS"/,
    );
    expect(list[refresh].env?.SECRET_SETTINGS).toBe('${{ steps.secrets.outputs.names }}');
    expect(list.some((s) => /az functionapp restart/.test(s.run ?? ''))).toBe(false);
  });

  test('every environment it offers has a parameter file', () => {
    const options = (((deploy.on as Map).workflow_dispatch as Map).inputs as Map).environment as Map;
    expect((options.options as string[]).length).toBeGreaterThan(0);
    for (const env of options.options as string[]) expect(existsSync(join(REPO_ROOT, 'infra', 'env', `${env}.parameters.json`))).toBe(true);
    expect(options.default).toBe('dev');
  });

  test('secrets reach only the steps that need them, never the job or workflow environment', () => {
    expect(strings((job.env ?? {}) as Map).join('\n')).not.toMatch(SECRET_EXPR);
    expect(strings((deploy.env ?? {}) as Map).join('\n')).not.toMatch(SECRET_EXPR);
    const allSecrets = SECRET_SETTINGS.filter((s) => s !== 'AzureWebJobsStorage').sort();
    const withSecrets = list.filter((s) => strings(s as unknown as YamlValue).some((t) => SECRET_EXPR.test(t)));
    for (const step of withSecrets) {
      // Only as env of a run step (never in `with:` of an action or inline in a script).
      expect(step.run).toBeDefined();
      expect(
        strings(step.with ?? {})
          .concat(step.run ?? '')
          .join('\n'),
      ).not.toMatch(SECRET_EXPR);
      for (const [name, value] of Object.entries(step.env ?? {})) {
        if (typeof value === 'string' && SECRET_EXPR.test(value)) expect(value).toBe(`\${{ secrets.${name} }}`);
      }
    }
    const secretNames = (step: Step) =>
      Object.entries(step.env ?? {})
        .filter(([, v]) => typeof v === 'string' && SECRET_EXPR.test(v))
        .map(([n]) => n)
        .sort();
    expect(withSecrets.map((s) => s.name)).toEqual([
      'Secret settings to reference from Key Vault',
      'Store secrets in Key Vault',
      'Register and reconcile Engage listeners',
    ]);
    // Which secret settings exist (names) and storing them: all of them; the listener reconcile: the Engage ones it uses.
    expect(secretNames(withSecrets[0])).toEqual(allSecrets);
    expect(secretNames(withSecrets[1])).toEqual(allSecrets);
    expect(secretNames(withSecrets[2])).toEqual(['ENGAGE_PASSWORD', 'ENGAGE_SUBSCRIPTION_KEY', 'ENGAGE_WEBHOOK_SECRET']);
  });

  test('skips the listener reconcile with a notice until the Engage settings and secrets are set', () => {
    const reconcile = list.find((s) => /listeners reconcile/.test(s.run ?? ''))!;
    const run = reconcile.run!;
    const guard =
      /for name in ([A-Z_ ]+); do\s+\[ -n "\$\{!name\}" \] \|\| missing="\$missing \$name"\s+done\s+if \[ -n "\$missing" \]; then\s+echo "::notice::listeners not reconciled: set\$missing[^"]*"\s+exit 0/.exec(
        run,
      );
    expect(guard).not.toBeNull();
    expect(guard!.index).toBeLessThan(run.indexOf('az functionapp function keys list'));
    expect(guard![1].trim().split(/\s+/).sort()).toEqual([
      'ENGAGE_BASE_URL',
      'ENGAGE_CLIENT_ID',
      'ENGAGE_PASSWORD',
      'ENGAGE_SUBSCRIPTION_KEY',
      'ENGAGE_WEBHOOK_SECRET',
    ]);
    for (const name of guard![1].trim().split(/\s+/)) expect(reconcile.env?.[name]).toBeDefined();
  });

  test('the function key is masked, kept out of the repository and the rendered file is removed', () => {
    const reconcile = list.find((s) => /listeners reconcile/.test(s.run ?? ''))!;
    const run = reconcile.run!;
    expect(run).toMatch(/echo "::add-mask::\$key"/);
    expect(run.indexOf('::add-mask::')).toBeLessThan(run.indexOf('ENGAGE_NOTIFICATION_URL'));
    expect(run).toMatch(/node scripts\/render-listeners\.js "\$LISTENERS_TEMPLATE" "\$RUNNER_TEMP\/listeners\.json"/);
    expect(run.indexOf('render-listeners')).toBeLessThan(run.indexOf('listeners reconcile'));
    expect(run).toMatch(/rm -f "\$RUNNER_TEMP\/listeners\.json"/);
    expect(reconcile.env?.LISTENERS_TEMPLATE).toBe(
      "${{ vars.ENGAGE_LISTENERS_FILE || format('infra/listeners/{0}.json', inputs.environment || 'dev') }}",
    );
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
    expect((azd.services as Map).api).toMatchObject({ project: '.', language: 'ts', host: 'function' });
    // functionapp.bicep tags the site so azd finds it.
    expect(readFileSync(join(REPO_ROOT, 'infra', 'modules', 'functionapp.bicep'), 'utf8')).toContain("'azd-service-name': 'api'");
  });
});
