/**
 * scripts/package-function-app.sh (deploy workflow): the package holds what the Functions host
 * loads (host.json, package.json `main` → dist/functions/index.js) and nothing of the dev tree.
 * The production `npm ci` is skipped here (SKIP_INSTALL=1: no registry access in tests).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ensureBuilt } from './build';
import { REPO_ROOT } from './deploymentChecks';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('scripts/package-function-app.sh', () => {
  let out: string;
  beforeAll(() => {
    ensureBuilt(REPO_ROOT);
    out = join(mkdtempSync(join(tmpdir(), 'pkg-test-')), 'package');
  });
  afterAll(() => rmSync(join(out, '..'), { recursive: true, force: true }));

  test('packages the compiled app with host.json and package.json, without tests, tools or source maps', () => {
    const run = spawnSync(join(REPO_ROOT, 'scripts', 'package-function-app.sh'), [out], { env: { ...process.env, SKIP_INSTALL: '1' }, encoding: 'utf8' });
    expect(run.status).toBe(0);
    const files = filesUnder(out).map((f) => relative(out, f));
    expect(files).toEqual(expect.arrayContaining(['host.json', 'package.json', 'package-lock.json']));
    const pkg = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')) as { main: string };
    expect(existsSync(join(out, pkg.main))).toBe(true);
    expect(files.filter((f) => !/^(host\.json|package\.json|package-lock\.json|dist\/(functions|shared)\/.+\.js)$/.test(f))).toEqual([]);
    // Every relative require of the packaged code resolves inside the package.
    for (const file of files.filter((f) => f.endsWith('.js'))) {
      const source = readFileSync(join(out, file), 'utf8');
      for (const [, target] of source.matchAll(/require\("(\.[^"]+)"\)/g)) {
        expect(() => require.resolve(join(out, file, '..', target!))).not.toThrow();
      }
    }
  });
});
