/**
 * The app as the local host loads it in tests: the built entry point (`npm run build` first, as
 * `npm test` does), the trigger settings the shipped local.settings.sample.json gives, and app
 * directories for host processes (package.json pointing at the built app + the test's own files).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexFunctions, loadApp, type IndexResult } from '../../local/host/app';

export const REPO_ROOT = join(__dirname, '..', '..');
/** package.json `main`: the bundled app (scripts/bundle-app.mjs), as it ships. */
export const BUILT_MAIN = join(REPO_ROOT, (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { main: string }).main);

/** The sample settings, less what a test configures itself (storage, keys). */
export function sampleTriggerSettings(): Record<string, string> {
  const { Values } = JSON.parse(readFileSync(join(REPO_ROOT, 'local.settings.sample.json'), 'utf8')) as { Values: Record<string, string> };
  const { AzureWebJobsStorage: _s, LOCAL_FUNCTION_KEY: _f, LOCAL_MASTER_KEY: _m, FUNCTIONS_WORKER_RUNTIME: _r, ...rest } = Values;
  return rest;
}

/** A temporary function app directory whose package.json `main` is the built app; `files` are written into it. */
export function appDir(prefix: string, files: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'engage-bridge-test', main: BUILT_MAIN }));
  for (const [name, content] of Object.entries(files))
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

/**
 * The built app loaded through the stand-in @azure/functions-core (as the worker loads it) and
 * indexed as the host would with these settings: functions with resolved bindings, and indexing errors.
 */
export async function indexBuiltApp(env: NodeJS.ProcessEnv): Promise<IndexResult> {
  const entryPoint = await loadApp(appDir('indexed-app-'));
  return indexFunctions({ entryPoint, env });
}
