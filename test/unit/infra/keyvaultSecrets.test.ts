/**
 * scripts/keyvault-secrets.js (deploy workflow): which secret settings get a Key Vault reference,
 * and how values reach the vault — through `az keyvault secret set --file`, never on a command line
 * or in the output; after a restart, every Key Vault reference must report Resolved. `az` is replaced
 * by a stub on PATH that records what it was given.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SECRET_SETTINGS } from '../../../shared/config/settings';
import { ensureBuilt } from './build';
import { REPO_ROOT } from './deploymentChecks';

const SCRIPT = join(REPO_ROOT, 'scripts', 'keyvault-secrets.js');
const { keyVaultSecretName, providedSecretSettings, unresolvedReferences } = require(SCRIPT) as {
  keyVaultSecretName: (s: string) => string;
  providedSecretSettings: (names: readonly string[], env: Record<string, string | undefined>) => string[];
  unresolvedReferences: (answer: unknown, expected?: string[]) => { name: string; status: string }[];
};

describe('scripts/keyvault-secrets.js', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt(REPO_ROOT);
    dir = mkdtempSync(join(tmpdir(), 'kv-test-'));
    // Stub az: records its arguments and the content of the --file it was given.
    writeFileSync(
      join(dir, 'az'),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> "${dir}/calls"\nwhile [ $# -gt 0 ]; do if [ "$1" = "--file" ]; then cat "$2" >> "${dir}/values"; printf '\\n' >> "${dir}/values"; fi; shift; done\n`,
    );
    chmodSync(join(dir, 'az'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('secret names: setting lower-case with - for _', () => {
    expect(keyVaultSecretName('ENGAGE_WEBHOOK_SECRET')).toBe('engage-webhook-secret');
    expect(keyVaultSecretName('NOOJEE_API_KEY')).toBe('noojee-api-key');
  });

  test('only secret settings with a value, never the storage connection string', () => {
    const env = {
      ENGAGE_PASSWORD: 'p',
      ENGAGE_SUBSCRIPTION_KEY: '',
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      NOOJEE_API_KEY: 'k',
    };
    expect(providedSecretSettings(SECRET_SETTINGS, env)).toEqual(['ENGAGE_PASSWORD', 'NOOJEE_API_KEY']);
  });

  test('`names` prints the provided secret settings of the built app as JSON, no values', () => {
    const run = spawnSync(process.execPath, [SCRIPT, 'names'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, ENGAGE_PASSWORD: 'value-that-must-not-leak', NOTIFICATIONS_CLIENT_SECRET: 'another' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(['ENGAGE_PASSWORD', 'NOTIFICATIONS_CLIENT_SECRET']);
    expect(run.stdout + run.stderr).not.toMatch(/value-that-must-not-leak|another/);
  });

  test('`push` stores each value with az keyvault secret set --file; values never in arguments or output', () => {
    const run = spawnSync(process.execPath, [SCRIPT, 'push', '--vault', 'kv-test'], {
      cwd: REPO_ROOT,
      env: { PATH: `${dir}:${process.env.PATH}`, ENGAGE_WEBHOOK_SECRET: 's3cret-webhook', NOOJEE_API_KEY: 'noojee-k3y' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatch(
      /^keyvault secret set --vault-name kv-test --name engage-webhook-secret --file \S+ --encoding utf-8 --output none$/,
    );
    expect(calls[1]).toMatch(/--name noojee-api-key --file /);
    expect(readFileSync(join(dir, 'values'), 'utf8')).toBe('s3cret-webhook\nnoojee-k3y\n');
    expect(calls.join('\n') + run.stdout + run.stderr).not.toMatch(/s3cret-webhook|noojee-k3y/);
    expect(run.stdout).toContain('set engage-webhook-secret (ENGAGE_WEBHOOK_SECRET)');
  });

  test('reference status: every expected setting must report Resolved', () => {
    const answer = {
      value: [
        { name: 'ENGAGE_PASSWORD', properties: { status: 'Resolved' } },
        { name: 'NOOJEE_API_KEY', properties: { status: 'SecretNotFound' } },
      ],
    };
    expect(unresolvedReferences(answer)).toEqual([{ name: 'NOOJEE_API_KEY', status: 'SecretNotFound' }]);
    expect(unresolvedReferences(answer, ['ENGAGE_PASSWORD', 'ENGAGE_WEBHOOK_SECRET'])).toEqual([
      { name: 'ENGAGE_WEBHOOK_SECRET', status: 'not reported' },
    ]);
    expect(unresolvedReferences(answer, [])).toEqual([]);
  });

  test('`check-references` asks the platform to refresh the references (documented POST), polls az rest until resolved, and fails naming what is not', () => {
    const stub = join(dir, 'rest');
    mkdirSync(stub);
    // az stub answering the configreferences call from a file the test rewrites.
    writeFileSync(join(stub, 'az'), `#!/bin/sh\nprintf '%s\\n' "$*" >> "${stub}/calls"\ncat "${stub}/answer.json"\n`);
    chmodSync(join(stub, 'az'), 0o755);
    const run = (answer: unknown) => {
      writeFileSync(join(stub, 'answer.json'), JSON.stringify(answer));
      return spawnSync(
        process.execPath,
        [SCRIPT, 'check-references', '--resource-group', 'rg-dev', '--app', 'func-dev', '--settings', '["ENGAGE_PASSWORD"]'],
        {
          cwd: REPO_ROOT,
          env: { PATH: `${stub}:${process.env.PATH}`, KV_CHECK_ATTEMPTS: '2', KV_CHECK_DELAY_MS: '10' },
          encoding: 'utf8',
        },
      );
    };
    const ok = run({
      value: [
        {
          name: 'ENGAGE_PASSWORD',
          properties: { status: 'Resolved', reference: '@Microsoft.KeyVault(VaultName=kv;SecretName=engage-password)' },
        },
      ],
    });
    expect(ok.status).toBe(0);
    expect(readFileSync(join(stub, 'calls'), 'utf8').trim().split('\n')).toEqual([
      'rest --method post --url /subscriptions/{subscriptionId}/resourceGroups/rg-dev/providers/Microsoft.Web/sites/func-dev/config/configreferences/appsettings/refresh?api-version=2022-03-01 --output none',
      'rest --method get --url /subscriptions/{subscriptionId}/resourceGroups/rg-dev/providers/Microsoft.Web/sites/func-dev/config/configreferences/appsettings?api-version=2025-03-01 --output json',
    ]);
    const failing = run({ value: [{ name: 'ENGAGE_PASSWORD', properties: { status: 'AccessToKeyVaultDenied' } }] });
    expect(failing.status).toBe(1);
    expect(failing.stderr).toBe('error: Key Vault references not resolved: ENGAGE_PASSWORD (AccessToKeyVaultDenied)\n');
    expect(readFileSync(join(stub, 'calls'), 'utf8').trim().split('\n')).toHaveLength(5);
  });

  test('usage errors exit 1 with a message', () => {
    const run = spawnSync(process.execPath, [SCRIPT, 'push'], { cwd: REPO_ROOT, env: { PATH: process.env.PATH }, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/usage: keyvault-secrets\.js push --vault/);
  });
});
