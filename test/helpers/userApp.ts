/**
 * A copy of the app as a user's project holds it (package.json, host.json, the TypeScript of functions/,
 * shared/ and examples/), with one new source file, built by the project's own bundling step
 * (scripts/bundle-app.mjs, what `npm run build` runs after tsc) into dist/app/main.js, package.json `main`.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './app';

export function buildUserApp(prefix: string, file: string, source: string): string {
  const app = mkdtempSync(join(tmpdir(), prefix));
  for (const f of ['package.json', 'host.json', 'local.settings.sample.json']) cpSync(join(REPO_ROOT, f), join(app, f));
  for (const d of ['functions', 'shared', 'examples']) cpSync(join(REPO_ROOT, d), join(app, d), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(app, 'node_modules'), 'dir');
  writeFileSync(join(app, file), source);
  const built = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'bundle-app.mjs'), '--root', app], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`bundle-app.mjs failed: ${built.stderr}`);
  return app;
}
