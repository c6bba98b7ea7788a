/**
 * azd's packaging of a TypeScript function service, as its source does it (Azure/azure-dev at
 * ae35809f, cli/azd/pkg/project): never from memory.
 * - service_manager.go `Package`: restore first when the framework requires it (Node: RequireRestore
 *   true, RequireBuild false, framework_service_node.go `Requirements`), so NO build runs before the
 *   `prepackage` hook; then the hook, then the framework's `Package` (`npm run build` in the project
 *   folder; the package folder is `dist` = OutputPath), then the service target's `Package`.
 * - service_target_functionapp.go `Package` → project_utils.go `createDeployableZip(svc, <dist>)`: the
 *   ignore file `.funcignore` is read from the folder being zipped; the ignore file itself, `.azure/`
 *   and `local.settings.json` are always left out; without an ignore file, a TypeScript service leaves
 *   `node_modules` out unless `remoteBuild: false`.
 * - `resolveFunctionAppRemoteBuild`: reads `.funcignore` from the PROJECT folder; `remoteBuild: false`
 *   with that file excluding node_modules is an error, `remoteBuild: true` with it not excluding is too;
 *   unset → remote build only if it excludes node_modules (no file: remote build).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AzdService {
  project: string;
  language: string;
  host: string;
  dist?: string;
  remoteBuild?: boolean;
  hooks?: { prepackage?: { run: string } };
}

export interface IgnoreRule {
  negate: boolean;
  dirOnly: boolean;
  regex: RegExp;
}

/** .funcignore / .gitignore rules (gitignore syntax: `!`, trailing `/`, anchored `/x`, `*`, `**`, `?`). */
export function parseIgnore(text: string): IgnoreRule[] {
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
export function ignored(rules: IgnoreRule[], path: string, isDir: boolean): boolean {
  let result = false;
  for (const rule of rules) if ((!rule.dirOnly || isDir) && rule.regex.test(path)) result = !rule.negate;
  return result;
}

/**
 * The files a packager applying `rules` to `root` ships; an excluded directory is not entered (git:
 * a file cannot be re-included under an excluded directory). `leaves` are listed as `dir/` only.
 */
export function shipped(root: string, rules: IgnoreRule[], leaves: readonly string[] = []): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
      const path = dir ? `${dir}/${e.name}` : e.name;
      if (ignored(rules, path, e.isDirectory())) return [];
      if (!e.isDirectory()) return [path];
      return leaves.includes(path) ? [`${path}/`] : walk(path);
    });
  return walk('');
}

/** What `azd package` runs, in order, for this service (commands run in the project folder). */
export function azdPackageSteps(svc: AzdService): string[] {
  const steps = ['npm install'];
  if (svc.hooks?.prepackage) steps.push(`prepackage hook: ${svc.hooks.prepackage.run}`);
  steps.push('npm run build', `zip ${svc.dist ?? svc.project} (ignore file: ${join(svc.dist ?? svc.project, '.funcignore')})`);
  return steps;
}

/** azd's remote-build decision for a JS/TS function service (throws where azd refuses). */
export function resolveRemoteBuild(svc: AzdService, projectRoot: string): boolean {
  const file = join(projectRoot, svc.project, '.funcignore');
  if (!existsSync(file)) return svc.remoteBuild ?? true;
  const excludesNodeModules = ignored(parseIgnore(readFileSync(file, 'utf8')), 'node_modules', true);
  if (svc.remoteBuild === undefined) return excludesNodeModules;
  if (svc.remoteBuild && !excludesNodeModules) throw new Error("'remoteBuild: true' requires '.funcignore' to exclude node_modules");
  if (!svc.remoteBuild && excludesNodeModules)
    throw new Error("'remoteBuild: false' cannot be used when '.funcignore' excludes node_modules");
  return svc.remoteBuild;
}

/** The files azd's zip of `packageRoot` holds (`leaves` listed as `dir/` only). */
export function azdZipEntries(svc: AzdService, packageRoot: string, leaves: readonly string[] = []): string[] {
  const ignoreFile = join(packageRoot, '.funcignore');
  const rules = existsSync(ignoreFile) ? parseIgnore(readFileSync(ignoreFile, 'utf8').replace(/^\uFEFF/, '')) : undefined;
  const walk = (dir: string): string[] =>
    readdirSync(join(packageRoot, dir), { withFileTypes: true }).flatMap((e) => {
      const path = dir ? `${dir}/${e.name}` : e.name;
      const isDir = e.isDirectory();
      if (e.name === '.azure' && isDir) return [];
      if (e.name === '.funcignore' && !isDir) return [];
      if (e.name === 'local.settings.json' && !isDir) return [];
      if (rules) {
        if (ignored(rules, path, isDir)) return [];
      } else if (e.name === 'node_modules' && isDir && svc.remoteBuild !== false && ['ts', 'js'].includes(svc.language)) {
        return [];
      }
      if (!isDir) return [path];
      return leaves.includes(path) ? [`${path}/`] : walk(path);
    });
  return walk('');
}
