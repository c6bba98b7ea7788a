/**
 * Issue 21.3: the local host is a stand-in for Azure's Functions host and shares no code with the app
 * it runs: nothing under local/host imports from shared/, functions/, cli/ (or examples/), whether by
 * `import`, `export … from`, dynamic `import()` or `require()`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const hostDir = join(root, 'local/host');
const APP_FOLDERS = ['shared', 'functions', 'cli', 'examples'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every module specifier of a file: static imports/exports, dynamic import(), require(). Comments are stripped first. */
export function specifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"`]([^'"`]+)['"`]/g,
    /\bimport\s*['"`]([^'"`]+)['"`]/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]/g,
    /\brequire\s*\(\s*['"`]([^'"`]+)['"`]/g,
  ];
  for (const p of patterns) for (const m of code.matchAll(p)) found.push(m[1]);
  return found;
}

/** The app folder a relative specifier of `file` lands in, if any. */
function appFolderOf(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const top = relative(root, resolve(dirname(file), spec)).split(/[\\/]/)[0];
  return APP_FOLDERS.includes(top) ? top : undefined;
}

test('the specifier scanner sees every form of import', () => {
  const src = [
    "import { a } from '../../shared/a';",
    'import type { B } from "../../shared/b";',
    "export { c } from '../../functions/c';",
    "import '../../cli/d';",
    "const e = await import('../../shared/e');",
    "const f = require('../../shared/f');",
    "// import { g } from '../../shared/g';",
    "/* require('../../shared/h') */",
  ].join('\n');
  expect(specifiers(src)).toEqual(
    expect.arrayContaining(['../../shared/a', '../../shared/b', '../../functions/c', '../../cli/d', '../../shared/e', '../../shared/f']),
  );
  expect(specifiers(src)).not.toContain('../../shared/g');
  expect(specifiers(src)).not.toContain('../../shared/h');
});

test('local/host imports nothing from shared/, functions/, cli/ or examples/', () => {
  const files = tsFiles(hostDir);
  expect(files.length).toBeGreaterThan(5);
  const crossings = files.flatMap((file) =>
    specifiers(readFileSync(file, 'utf8'))
      .filter((spec) => appFolderOf(file, spec))
      .map((spec) => `${relative(root, file)} → ${spec}`),
  );
  expect(crossings).toEqual([]);
});
