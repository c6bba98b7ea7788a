import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The scripts under test read the compiled app (`npm test` builds first; a lone `npx jest` run may
 * not have), so compile once if dist/ is missing.
 */
export function ensureBuilt(repoRoot: string): void {
  if (!existsSync(join(repoRoot, 'dist', 'shared', 'config', 'settings.js')) || !existsSync(join(repoRoot, 'dist', 'app', 'main.js'))) {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: repoRoot, stdio: 'ignore' });
  }
}
