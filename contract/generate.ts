/**
 * `npm run contract`: writes docs/asyncapi.yaml and docs/schemas/*.json from the code (stale schema
 * files are removed). `--check` writes nothing and exits 1 when the committed files differ.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './model';
import { renderContract, SCHEMA_DIR } from './render';

function main(): void {
  const check = process.argv.includes('--check');
  const root = repoRoot();
  const files = renderContract();
  mkdirSync(join(root, SCHEMA_DIR), { recursive: true });
  const stale = readdirSync(join(root, SCHEMA_DIR), { withFileTypes: true })
    .filter((e) => e.isFile() && !files.has(`${SCHEMA_DIR}/${e.name}`))
    .map((e) => `${SCHEMA_DIR}/${e.name}`);
  const changed = [...files].filter(([path, text]) => read(join(root, path)) !== text).map(([path]) => path);
  if (check) {
    for (const path of changed) console.error(`contract: ${path} differs from the code (run npm run contract)`);
    for (const path of stale) console.error(`contract: ${path} is not generated from the code (run npm run contract to remove it)`);
    process.exitCode = changed.length + stale.length > 0 ? 1 : 0;
    if (process.exitCode === 0) console.log(`contract: ${files.size} file(s) up to date with the code`);
    return;
  }
  for (const path of changed) writeFileSync(join(root, path), files.get(path)!);
  for (const path of stale) rmSync(join(root, path));
  console.log(`contract: ${files.size} file(s), ${changed.length} written, ${stale.length} removed`);
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

main();
