/**
 * What the app reads of host.json itself: the function timeout (the time an invocation may run, which
 * the v2 drain uses to keep retrying a page it holds). Read once from the app root (next to package.json
 * `main`'s folder tree), not duplicated in a setting. Azure's default for Flex Consumption is 30 minutes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const DEFAULT_FUNCTION_TIMEOUT_MS = 30 * 60_000;

/** `hh:mm:ss` (or `d.hh:mm:ss`) as host.json writes a TimeSpan; undefined when it is not one. */
export function parseTimeSpan(text: string): number | undefined {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const [, d, h, min, sec] = m;
  return (((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(min)) * 60 + Number(sec)) * 1000;
}

let cached: number | undefined;

/** host.json `functionTimeout` in ms (the app root's host.json; Azure's default when absent or "-1"). */
export function functionTimeoutMs(root = appRoot()): number {
  if (cached !== undefined && root === appRoot()) return cached;
  let timeout = DEFAULT_FUNCTION_TIMEOUT_MS;
  const file = join(root, 'host.json');
  if (existsSync(file)) {
    try {
      const value = (JSON.parse(readFileSync(file, 'utf8')) as { functionTimeout?: unknown }).functionTimeout;
      const parsed = typeof value === 'string' ? parseTimeSpan(value) : undefined;
      if (parsed !== undefined && parsed > 0) timeout = parsed;
    } catch {
      /* an unreadable host.json stops the host itself; keep the default here */
    }
  }
  if (root === appRoot()) cached = timeout;
  return timeout;
}

/** The folder holding host.json: up from this file (dist/shared or shared) until one is found. */
function appRoot(): string {
  let dir = resolve(__dirname);
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'host.json'))) return dir;
    dir = resolve(dir, '..');
  }
  return process.cwd();
}
