/**
 * What reaches Azure: the package azd (azure.yaml `dist` + its prepackage hook + .funcignore) and
 * the deploy workflow ship holds what the Functions host loads (host.json, package.json `main` →
 * dist/app/main.js and the chunks it loads, production node_modules: @azure/functions and @opentelemetry/api) and nothing of the dev tree (tests,
 * bench, the local host, the CLI, infra, sources, dev dependencies). Offline: the packaging script
 * runs into a temp dir with `npm` replaced by a stub that records the production install it is
 * asked for, and .funcignore is evaluated with git's ignore rules against the package and the tree.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { azdPackageSteps, azdZipEntries, ignored, parseIgnore, resolveRemoteBuild, shipped, type AzdService } from './azdPackaging';
import { ensureBuilt } from './build';
import { REPO_ROOT } from './deploymentChecks';
import { parseYaml } from './yamlFile';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

const funcignore = () => parseIgnore(readFileSync(join(REPO_ROOT, '.funcignore'), 'utf8'));
/** What the Functions host needs, and nothing else. */
const RUNTIME_FILE = /^(host\.json|package\.json|package-lock\.json|dist\/app\/[\w-]+\.js(\.map)?|node_modules\/.*)$/;

describe('the deployment package', () => {
  let dir: string;
  let out: string;
  let npmCalls: string[];
  beforeAll(() => {
    ensureBuilt(REPO_ROOT);
    dir = mkdtempSync(join(tmpdir(), 'pkg-test-'));
    out = join(dir, 'package');
    // npm stub: records its arguments and working directory, installs a marker "package".
    mkdirSync(join(dir, 'bin'));
    writeFileSync(
      join(dir, 'bin', 'npm'),
      `#!/bin/sh\nprintf '%s|%s\\n' "$PWD" "$*" >> "${dir}/npm-calls"\nmkdir -p node_modules/@azure/functions && echo '{"name":"@azure/functions"}' > node_modules/@azure/functions/package.json\n`,
    );
    chmodSync(join(dir, 'bin', 'npm'), 0o755);
    const run = spawnSync(join(REPO_ROOT, 'scripts', 'package-function-app.sh'), [out], {
      env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`package-function-app.sh failed: ${run.stderr}`);
    npmCalls = readFileSync(join(dir, 'npm-calls'), 'utf8').trim().split('\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('scripts/package-function-app.sh builds host.json, package.json, the bundle in dist/app and a production install', () => {
    const files = filesUnder(out).map((f) => relative(out, f));
    expect(files).toEqual(
      expect.arrayContaining([
        'host.json',
        'package.json',
        'package-lock.json',
        'dist/app/main.js',
        'dist/app/telemetry.js',
        '.funcignore',
      ]),
    );
    expect(files.filter((f) => !RUNTIME_FILE.test(f) && f !== '.funcignore')).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')) as { main: string };
    expect(existsSync(join(out, pkg.main))).toBe(true);
    // One `npm ci` from the lockfile, in the package, without dev dependencies or install scripts.
    expect(npmCalls).toHaveLength(1);
    const [cwd, args] = npmCalls[0].split('|');
    expect(cwd).toBe(out);
    expect(args.split(' ')).toEqual(expect.arrayContaining(['ci', '--omit=dev', '--ignore-scripts']));
    // Every relative require of the packaged code resolves inside the package.
    for (const file of files.filter((f) => f.endsWith('.js') && f.startsWith('dist/'))) {
      const source = readFileSync(join(out, file), 'utf8');
      for (const [, target] of source.matchAll(/require\("(\.[^"]+)"\)/g)) {
        expect(() => require.resolve(join(out, file, '..', target))).not.toThrow();
      }
    }
  });

  test('a production install from the lockfile has the dependencies and none of the dev tools', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const production = new Set(
      Object.entries(lock.packages)
        .filter(([path, p]) => path.startsWith('node_modules/') && !p.dev)
        .map(([path]) => path.slice('node_modules/'.length)),
    );
    for (const name of Object.keys(pkg.dependencies)) expect(production).toContain(name);
    for (const name of ['jest', 'azurite', 'typescript', 'autocannon', '@kusto/language-service-next', 'tree-sitter-bicep'])
      expect(production).not.toContain(name);
  });

  test("azd's zip of the package folder (its own .funcignore) ships the whole package, node_modules included", () => {
    const files = filesUnder(out)
      .map((f) => relative(out, f))
      .filter((f) => f !== '.funcignore');
    expect(azdZipEntries(azdService(), out).sort()).toEqual(files.sort());
    expect(files).toContain('node_modules/@azure/functions/package.json');
  });

  test('.funcignore applied to the project folder ships nothing from tests, bench, the local host or tools', () => {
    const files = shipped(REPO_ROOT, funcignore(), ['node_modules']);
    expect(files).toEqual(expect.arrayContaining(['host.json', 'package.json', 'dist/app/main.js', 'node_modules/']));
    expect(files.filter((f) => !RUNTIME_FILE.test(f) && f !== 'node_modules/')).toEqual([]);
    for (const prefix of [
      'test/',
      'bench/',
      'local/',
      'dist/local/',
      'dist/test/',
      'dist/bench/',
      'dist/cli/',
      'infra/',
      'scripts/',
      'docs/',
      '.deploy/',
    ]) {
      expect(files.filter((f) => f.startsWith(prefix))).toEqual([]);
    }
  });

  test('the ignore rules follow git: anchoring, directories, negation, and no re-include under an excluded directory', () => {
    const rules = parseIgnore('/*\n!/keep/\n/keep/*\n!/keep/this/\n*.map\nbuild/\n');
    expect(ignored(rules, 'top.txt', false)).toBe(true);
    expect(ignored(rules, 'keep', true)).toBe(false);
    expect(ignored(rules, 'keep/other', true)).toBe(true);
    expect(ignored(rules, 'keep/this', true)).toBe(false);
    expect(ignored(rules, 'keep/this/a.js.map', false)).toBe(true);
    expect(ignored(rules, 'keep/this/build', true)).toBe(true);
    expect(ignored(rules, 'keep/this/build', false)).toBe(false);
  });

  test('azd packages the folder the script builds (azure.yaml dist + prepackage hook); the workflow deploys the same', () => {
    const api = azdService();
    expect(api.hooks!.prepackage!.run).toBe(`npm run build && scripts/package-function-app.sh ${api.dist}`);
    const deploy = readFileSync(join(REPO_ROOT, '.github', 'workflows', 'deploy.yml'), 'utf8');
    expect(deploy).toContain(`run: scripts/package-function-app.sh ${api.dist}`);
    expect(deploy).toContain(`package: ${api.dist}`);
    expect(readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8').split('\n')).toContain(`${api.dist!.split('/')[0]}/`);
  });
});

/** The `api` service of azure.yaml. */
function azdService(text = readFileSync(join(REPO_ROOT, 'azure.yaml'), 'utf8')): AzdService {
  return (parseYaml(text, 'azure.yaml') as unknown as { services: { api: AzdService } }).services.api;
}

describe("azd's real packaging rules (azdPackaging.ts, from azd's source)", () => {
  test('azd package runs npm install, the prepackage hook, npm run build, then zips dist: the hook builds before it packages', () => {
    const api = azdService();
    const steps = azdPackageSteps(api);
    expect(steps).toEqual([
      'npm install',
      'prepackage hook: npm run build && scripts/package-function-app.sh .deploy/package',
      'npm run build',
      'zip .deploy/package (ignore file: .deploy/package/.funcignore)',
    ]);
    // No build before the hook: the hook's own command builds dist/ before the package script reads it.
    const hook = api.hooks!.prepackage!.run;
    expect(hook.indexOf('npm run build')).toBeGreaterThanOrEqual(0);
    expect(hook.indexOf('npm run build')).toBeLessThan(hook.indexOf('package-function-app.sh'));
  });

  test('remoteBuild is false and the project .funcignore does not exclude node_modules (azd refuses the mix)', () => {
    const api = azdService();
    expect(api.remoteBuild).toBe(false);
    expect(resolveRemoteBuild(api, REPO_ROOT)).toBe(false);
    expect(() => resolveRemoteBuild({ ...api, remoteBuild: false }, join(__dirname, 'no-such-dir'))).not.toThrow();
  });

  test('the model finds the earlier finding F1 in the previous azure.yaml: no build before the hook, node_modules left out', () => {
    const before = azdService(
      readFileSync(join(REPO_ROOT, 'azure.yaml'), 'utf8')
        .replace(/\n\s*remoteBuild: false/, '')
        .replace('npm run build && ', ''),
    );
    expect(before.hooks!.prepackage!.run).not.toMatch(/npm run build/);
    // The package folder without its own .funcignore and remoteBuild unset: azd leaves node_modules out.
    const dir = mkdtempSync(join(tmpdir(), 'azd-f1-'));
    try {
      mkdirSync(join(dir, 'node_modules', '@azure', 'functions'), { recursive: true });
      writeFileSync(join(dir, 'node_modules', '@azure', 'functions', 'package.json'), '{}');
      writeFileSync(join(dir, 'host.json'), '{}');
      expect(azdZipEntries(before, dir)).toEqual(['host.json']);
      expect(azdZipEntries({ ...before, remoteBuild: false }, dir).sort()).toEqual([
        'host.json',
        'node_modules/@azure/functions/package.json',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the real production install (≤ 5,000 files, ≤ 30 MiB), zipped by azd's rules and unpacked as wwwroot, loads package.json main and registers every function", () => {
    ensureBuilt(REPO_ROOT);
    const dir = mkdtempSync(join(tmpdir(), 'azd-real-'));
    try {
      const pkgDir = join(dir, 'package');
      const run = spawnSync(join(REPO_ROOT, 'scripts', 'package-function-app.sh'), [pkgDir], {
        encoding: 'utf8',
        env: { ...process.env, npm_config_prefer_offline: 'true' },
      });
      expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({ status: 0, stderr: '' });
      // Issue 25: what every scale-out downloads and unpacks stays small (the bench reports the exact figures).
      const packaged = filesUnder(pkgDir);
      expect(packaged.length).toBeLessThanOrEqual(5000);
      expect(packaged.reduce((sum, f) => sum + statSync(f).size, 0)).toBeLessThanOrEqual(30 * 1024 * 1024);
      // Unpack what azd's zip holds into a clean wwwroot: nothing else is there in Azure.
      const wwwroot = join(dir, 'wwwroot');
      for (const file of azdZipEntries(azdService(), pkgDir)) {
        mkdirSync(join(wwwroot, file, '..'), { recursive: true });
        writeFileSync(join(wwwroot, file), readFileSync(join(pkgDir, file)));
      }
      // The worker provides @azure/functions-core; everything else must come from wwwroot itself.
      const core = join(REPO_ROOT, 'dist', 'local', 'host', 'core', 'index.js');
      const probe = `
        const Module = require('module');
        const resolve = Module._resolveFilename;
        Module._resolveFilename = function (request, ...rest) {
          return request === '@azure/functions-core' ? ${JSON.stringify(core)} : resolve.call(this, request, ...rest);
        };
        const core = require(${JSON.stringify(core)});
        const names = [];
        const register = core.registerFunction;
        core.registerFunction = (metadata, callback) => { names.push(metadata.name); return register(metadata, callback); };
        const main = require('./package.json').main;
        require(require('path').resolve(main));
        const outside = Object.keys(require.cache).filter((f) => !f.startsWith(process.cwd()) && f !== ${JSON.stringify(core)} && !f.startsWith(${JSON.stringify(join(REPO_ROOT, 'dist', 'local', 'host', 'core'))}));
        console.log(JSON.stringify({ names, outside }));
      `;
      // Telemetry off, then on (the OpenTelemetry chunk and the Azure SDK chunk load from the package too).
      for (const telemetry of [
        {},
        {
          APPLICATIONINSIGHTS_CONNECTION_STRING:
            'InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=https://127.0.0.1:9/',
        },
      ]) {
        const loaded = spawnSync(process.execPath, ['-e', probe], {
          cwd: wwwroot,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', NODE_PATH: '', ...telemetry },
        });
        expect({ status: loaded.status, stderr: loaded.status === 0 ? '' : loaded.stderr }).toEqual({ status: 0, stderr: '' });
        const result = JSON.parse(loaded.stdout.trim().split('\n').pop()!) as { names: string[]; outside: string[] };
        expect(result.outside).toEqual([]);
        expect(result.names).toEqual(expect.arrayContaining(['engageWebhook', 'notificationsDrain', 'callEvents', 'poisonMonitor']));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
