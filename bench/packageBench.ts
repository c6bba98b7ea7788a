/**
 * (f) The deployment package as azd and the deploy workflow ship it: scripts/package-function-app.sh into a temp
 * folder (a real production `npm ci`), its size and file count, and the cold start of its package.json `main`
 * (telemetry off and on) in fresh processes, from the package alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchColdStart, type ColdStartResult } from './coldStart';
import { projectRoot } from './processes';

export interface PackageBenchResult {
  bytes: number;
  files: number;
  /** Bytes and files under node_modules (the production install). */
  nodeModulesBytes: number;
  nodeModulesFiles: number;
  coldStart: ColdStartResult;
  coldStartTelemetry: ColdStartResult;
}

function walk(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      const sub = walk(path);
      bytes += sub.bytes;
      files += sub.files;
    } else if (e.isFile()) {
      bytes += statSync(path).size;
      files += 1;
    }
  }
  return { bytes, files };
}

export async function benchPackage(runs: number, log: (line: string) => void): Promise<PackageBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-package-'));
  try {
    const out = join(dir, 'package');
    log('package: scripts/package-function-app.sh (production npm ci)');
    const built = spawnSync(join(projectRoot(), 'scripts', 'package-function-app.sh'), [out], { encoding: 'utf8', cwd: projectRoot() });
    if (built.status !== 0) throw new Error(`package-function-app.sh failed: ${built.stderr}`);
    const all = walk(out);
    const modules = walk(join(out, 'node_modules'));
    log(`package: cold start of its main, ${runs} fresh processes each, telemetry off then on`);
    return {
      bytes: all.bytes,
      files: all.files,
      nodeModulesBytes: modules.bytes,
      nodeModulesFiles: modules.files,
      coldStart: await benchColdStart(runs, false, out),
      coldStartTelemetry: await benchColdStart(runs, true, out),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
