/**
 * The real Bicep compiler on every Bicep file and parameter file, warnings as errors (linter levels in
 * infra/bicepconfig.json). Without a compiler this prints one line and skips, unless BICEP_REQUIRED is set
 * (.ci/run sets it after installing the CLI from NuGet), where a missing compiler fails.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { copyInfra, failures, findBicep, jsonParametersAsBicepparam, runBicep } from './bicepCli';
import { filesUnder, INFRA_DIR, MAIN_BICEP, REPO_ROOT } from './deploymentChecks';

const bicep = findBicep();
const required = !!process.env.BICEP_REQUIRED && process.env.BICEP_REQUIRED !== '0';
const bicepFiles = filesUnder(INFRA_DIR, '.bicep');
const parameterFiles = filesUnder(INFRA_DIR, '.json').filter((f) => f.endsWith('.parameters.json'));

if (!bicep && !required) {
  // One line, then skip: the offline checks in bicep.test.ts still run.
  console.log(
    'Bicep compile check skipped: no bicep binary (BICEP_BIN, PATH or ~/.azure/bin/bicep); `scripts/bicep/install.sh` installs it from NuGet.',
  );
}
const describeCompiler = bicep || required ? describe : describe.skip;

describeCompiler('the real Bicep compiler, warnings as errors', () => {
  test('a compiler is available', () => {
    expect(bicep).toEqual(expect.any(String));
  });

  test.each(bicepFiles.map((f) => [relative(REPO_ROOT, f)]))(
    'bicep build and bicep lint: %s',
    (file) => {
      const runs = [
        runBicep(bicep!, 'build', join(REPO_ROOT, file), REPO_ROOT),
        runBicep(bicep!, 'lint', join(REPO_ROOT, file), REPO_ROOT),
      ];
      expect(runs.flatMap(failures)).toEqual([]);
    },
    180_000,
  );

  test('bicep build-params: every parameter file, as the .bicepparam equivalent of its JSON', () => {
    expect(parameterFiles.length).toBeGreaterThanOrEqual(3);
    const copy = copyInfra(INFRA_DIR);
    try {
      const problems = parameterFiles.flatMap((file) => {
        // infra/env/*.parameters.json are deployed by .github/workflows/deploy.yml, which passes location on the command line.
        const commandLine = relative(INFRA_DIR, file).startsWith('env/') ? { location: 'eastus2' } : {};
        const generated = jsonParametersAsBicepparam(
          file,
          join(copy.dir, relative(INFRA_DIR, file), '..'),
          join(copy.dir, 'main.bicep'),
          commandLine,
        );
        return failures(runBicep(bicep!, 'build-params', generated, copy.dir)).map((p) => `${relative(REPO_ROOT, file)}: ${p}`);
      });
      expect(problems).toEqual([]);
    } finally {
      copy.cleanup();
    }
  }, 300_000);

  test('the check has teeth: a misspelt property (BCP037/BCP089, a warning) and a wrong parameter type fail it', () => {
    const copy = copyInfra(INFRA_DIR);
    try {
      const module = join(copy.dir, 'modules', 'functionapp.bicep');
      const text = readFileSync(module, 'utf8');
      expect(text).toContain('httpsOnly: true');
      writeFileSync(module, text.replace('httpsOnly: true', 'httpsOnyl: true'));
      const broken = failures(runBicep(bicep!, 'build', module, copy.dir));
      expect(broken.join('\n')).toMatch(/Warning BCP0(37|89).*httpsOnyl/);

      const params = join(copy.dir, 'wrong.parameters.json');
      writeFileSync(
        params,
        JSON.stringify({
          parameters: { environmentName: { value: 'dev' }, location: { value: 'eastus2' }, maximumInstanceCount: { value: 'ten' } },
        }),
      );
      const wrongType = failures(
        runBicep(bicep!, 'build-params', jsonParametersAsBicepparam(params, copy.dir, join(copy.dir, 'main.bicep')), copy.dir),
      );
      expect(wrongType.join('\n')).toMatch(/maximumInstanceCount|BCP033/);
    } finally {
      copy.cleanup();
    }
  }, 180_000);

  test('main.bicep is among the files checked', () => {
    expect(bicepFiles).toContain(MAIN_BICEP);
  });
});
