import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';

/**
 * The real Bicep compiler (BICEP_BIN, `bicep` on PATH, or az's own ~/.azure/bin/bicep). `.ci/run`
 * installs it from NuGet (scripts/bicep/install.sh) and sets BICEP_REQUIRED=1, so that there a missing
 * compiler fails the suite instead of skipping the check.
 */
export function findBicep(): string | undefined {
  const candidates = [
    process.env.BICEP_BIN,
    ...(process.env.PATH ?? '').split(':').map((d) => d && join(d, 'bicep')),
    join(homedir(), '.azure', 'bin', 'bicep'),
  ];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

export interface BicepRun {
  command: string;
  status: number | null;
  /** Every diagnostic the compiler printed: errors and warnings (linter rules included). */
  diagnostics: string[];
}

/** Runs `bicep <verb> <file>`; diagnostics are the compiler's own lines, paths made relative to `root`. */
export function runBicep(bin: string, verb: 'build' | 'lint' | 'build-params', file: string, root: string): BicepRun {
  const args = verb === 'lint' ? [verb, file] : [verb, file, '--stdout'];
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 120_000 });
  const diagnostics = `${r.stderr}`
    .split('\n')
    .filter((l) => /: (Error|Warning|Info) /.test(l))
    .map((l) => l.split(root + '/').join(''));
  return { command: `bicep ${verb} ${relative(root, file)}`, status: r.status, diagnostics };
}

/** Warnings are errors here: a run passes only with exit 0 and no Error or Warning line at all. */
export const failures = (run: BicepRun): string[] => [
  ...(run.status === 0 ? [] : [`${run.command}: exit ${run.status}`]),
  ...run.diagnostics.filter((d) => /: (Error|Warning) /.test(d)).map((d) => `${run.command}: ${d}`),
];

/** Sample values for azd's `${VAR}` / `${VAR=default}` placeholders in infra/main.parameters.json. */
const AZD_SAMPLE_ENV: Record<string, string> = {
  AZURE_ENV_NAME: 'dev',
  AZURE_LOCATION: 'eastus2',
  AZURE_PRINCIPAL_ID: '00000000-0000-0000-0000-000000000001',
};

/**
 * `bicep build-params` reads .bicepparam files; our parameter files are deployment-parameter JSON
 * (what azd and `az deployment --parameters @file` read). So each JSON file is turned into an equivalent
 * .bicepparam beside a temp copy of infra/ (`using` main.bicep, one `param` per value, azd placeholders
 * substituted as azd would: the `=default`, else a sample value) and the real compiler checks names and
 * types against the template. `commandLine` adds what the deploy workflow passes beside the file.
 */
export function jsonParametersAsBicepparam(
  jsonFile: string,
  infraCopy: string,
  mainBicep: string,
  commandLine: Record<string, unknown> = {},
): string {
  const parsed = JSON.parse(readFileSync(jsonFile, 'utf8')) as { parameters: Record<string, { value?: unknown }> };
  for (const [name, value] of Object.entries(commandLine)) parsed.parameters[name] ??= { value };
  const substitute = (v: unknown): unknown =>
    typeof v === 'string'
      ? v.replace(/\$\{([A-Z0-9_]+)(?:=([^}]*))?\}/g, (_m, name: string, dflt?: string) => dflt ?? AZD_SAMPLE_ENV[name] ?? '')
      : v;
  const lines = [`using '${relative(infraCopy, mainBicep)}'`, ''];
  for (const [name, p] of Object.entries(parsed.parameters)) {
    if (!('value' in p)) continue;
    lines.push(`param ${name} = json('${JSON.stringify(substitute(p.value)).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}')`);
  }
  const out = join(infraCopy, `${basename(jsonFile, '.json')}.bicepparam`);
  writeFileSync(out, lines.join('\n') + '\n');
  return out;
}

/** A temp copy of infra/ (for generated parameter files and deliberately broken modules). */
export function copyInfra(infraDir: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'bicep-'));
  execFileSync('cp', ['-R', infraDir, dir]);
  return { dir: join(dir, basename(infraDir)), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
