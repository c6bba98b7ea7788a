/**
 * What reaches Azure: the package azd (azure.yaml `dist` + its prepackage hook + .funcignore) and
 * the deploy workflow ship holds what the Functions host loads (host.json, package.json `main` →
 * dist/functions/index.js, dist/shared, production node_modules) and nothing of the dev tree (tests,
 * bench, the local host, the CLI, infra, sources, dev dependencies). Offline: the packaging script
 * runs into a temp dir with `npm` replaced by a stub that records the production install it is
 * asked for, and .funcignore is evaluated with git's ignore rules against the package and the tree.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ensureBuilt } from './build';
import { REPO_ROOT } from './deploymentChecks';
import { loadYaml } from './yamlFile';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

interface IgnoreRule {
  negate: boolean;
  dirOnly: boolean;
  regex: RegExp;
}

/** .funcignore / .gitignore rules (gitignore syntax: `!`, trailing `/`, anchored `/x`, `*`, `**`, `?`). */
function parseIgnore(text: string): IgnoreRule[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => l && !l.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      let pattern = negate ? line.slice(1) : line;
      const dirOnly = pattern.endsWith('/');
      if (dirOnly) pattern = pattern.slice(0, -1);
      const anchored = pattern.includes('/');
      if (pattern.startsWith('/')) pattern = pattern.slice(1);
      const glob = pattern
        .split(/(\*\*\/|\/\*\*|\*\*|\*|\?)/)
        .map((part) => {
          if (part === '**/') return '(?:.*/)?';
          if (part === '/**') return '/.*';
          if (part === '**') return '.*';
          if (part === '*') return '[^/]*';
          if (part === '?') return '[^/]';
          return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      return { negate, dirOnly, regex: new RegExp(anchored ? `^${glob}$` : `(?:^|/)${glob}$`) };
    });
}

/** Whether git would ignore `path` (relative, `/`-separated) by its own rules (the last match wins). */
function ignored(rules: IgnoreRule[], path: string, isDir: boolean): boolean {
  let result = false;
  for (const rule of rules) if ((!rule.dirOnly || isDir) && rule.regex.test(path)) result = !rule.negate;
  return result;
}

/**
 * The files a packager applying `rules` to `root` ships; an excluded directory is not entered (git:
 * a file cannot be re-included under an excluded directory). `leaves` are listed as `dir/` only.
 */
function shipped(root: string, rules: IgnoreRule[], leaves: readonly string[] = []): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
      const path = dir ? `${dir}/${e.name}` : e.name;
      if (ignored(rules, path, e.isDirectory())) return [];
      if (!e.isDirectory()) return [path];
      return leaves.includes(path) ? [`${path}/`] : walk(path);
    });
  return walk('');
}

const funcignore = () => parseIgnore(readFileSync(join(REPO_ROOT, '.funcignore'), 'utf8'));
/** What the Functions host needs, and nothing else. */
const RUNTIME_FILE = /^(host\.json|package\.json|package-lock\.json|dist\/(functions|shared)\/.+\.js|node_modules\/.*)$/;

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
    const run = spawnSync(join(REPO_ROOT, 'scripts', 'package-function-app.sh'), [out], { env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` }, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`package-function-app.sh failed: ${run.stderr}`);
    npmCalls = readFileSync(join(dir, 'npm-calls'), 'utf8').trim().split('\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('scripts/package-function-app.sh builds host.json, package.json, dist/functions, dist/shared and a production install', () => {
    const files = filesUnder(out).map((f) => relative(out, f));
    expect(files).toEqual(expect.arrayContaining(['host.json', 'package.json', 'package-lock.json', 'dist/functions/index.js']));
    expect(files.filter((f) => !RUNTIME_FILE.test(f))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')) as { main: string };
    expect(existsSync(join(out, pkg.main))).toBe(true);
    // One `npm ci` from the lockfile, in the package, without dev dependencies or install scripts.
    expect(npmCalls).toHaveLength(1);
    const [cwd, args] = npmCalls[0]!.split('|');
    expect(cwd).toBe(out);
    expect(args!.split(' ')).toEqual(expect.arrayContaining(['ci', '--omit=dev', '--ignore-scripts']));
    // Every relative require of the packaged code resolves inside the package.
    for (const file of files.filter((f) => f.endsWith('.js') && f.startsWith('dist/'))) {
      const source = readFileSync(join(out, file), 'utf8');
      for (const [, target] of source.matchAll(/require\("(\.[^"]+)"\)/g)) {
        expect(() => require.resolve(join(out, file, '..', target!))).not.toThrow();
      }
    }
  });

  test('a production install from the lockfile has the dependencies and none of the dev tools', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const production = new Set(Object.entries(lock.packages).filter(([path, p]) => path.startsWith('node_modules/') && !p.dev).map(([path]) => path.slice('node_modules/'.length)));
    for (const name of Object.keys(pkg.dependencies)) expect(production).toContain(name);
    for (const name of ['jest', 'azurite', 'typescript', 'autocannon', '@kusto/language-service-next', 'tree-sitter-bicep']) expect(production).not.toContain(name);
  });

  test('.funcignore ships the whole package azd zips', () => {
    const files = filesUnder(out).map((f) => relative(out, f));
    expect(shipped(out, funcignore()).sort()).toEqual(files.sort());
  });

  test('.funcignore applied to the project folder ships nothing from tests, bench, the local host or tools', () => {
    const files = shipped(REPO_ROOT, funcignore(), ['node_modules']);
    expect(files).toEqual(expect.arrayContaining(['host.json', 'package.json', 'dist/functions/index.js', 'node_modules/']));
    expect(files.filter((f) => !RUNTIME_FILE.test(f) && f !== 'node_modules/')).toEqual([]);
    for (const prefix of ['test/', 'bench/', 'local/', 'dist/local/', 'dist/test/', 'dist/bench/', 'dist/cli/', 'infra/', 'scripts/', 'docs/', '.deploy/']) {
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
    const azd = loadYaml(join(REPO_ROOT, 'azure.yaml')) as { services: { api: { dist: string; hooks: { prepackage: { run: string } } } } };
    const api = azd.services.api;
    expect(api.hooks.prepackage.run).toBe(`scripts/package-function-app.sh ${api.dist}`);
    const deploy = readFileSync(join(REPO_ROOT, '.github', 'workflows', 'deploy.yml'), 'utf8');
    expect(deploy).toContain(`run: scripts/package-function-app.sh ${api.dist}`);
    expect(deploy).toContain(`package: ${api.dist}`);
    expect(readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8').split('\n')).toContain(`${api.dist.split('/')[0]}/`);
  });
});
