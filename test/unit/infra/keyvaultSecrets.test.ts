/**
 * scripts/keyvault-secrets.js (deploy workflow): which secret settings get a Key Vault reference,
 * and how values reach the vault — through `az keyvault secret set --file`, never on a command line
 * or in the output. `az` is replaced by a stub on PATH that records what it was given.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SECRET_SETTINGS } from '../../../shared/config';
import { ensureBuilt } from './build';
import { REPO_ROOT } from './deploymentChecks';

const SCRIPT = join(REPO_ROOT, 'scripts', 'keyvault-secrets.js');
const { keyVaultSecretName, providedSecretSettings } = require(SCRIPT) as {
  keyVaultSecretName: (s: string) => string;
  providedSecretSettings: (names: readonly string[], env: Record<string, string | undefined>) => string[];
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
    const env = { ENGAGE_PASSWORD: 'p', ENGAGE_SUBSCRIPTION_KEY: '', AzureWebJobsStorage: 'UseDevelopmentStorage=true', NOOJEE_API_KEY: 'k' };
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
    expect(calls[0]).toMatch(/^keyvault secret set --vault-name kv-test --name engage-webhook-secret --file \S+ --encoding utf-8 --output none$/);
    expect(calls[1]).toMatch(/--name noojee-api-key --file /);
    expect(readFileSync(join(dir, 'values'), 'utf8')).toBe('s3cret-webhook\nnoojee-k3y\n');
    expect(calls.join('\n') + run.stdout + run.stderr).not.toMatch(/s3cret-webhook|noojee-k3y/);
    expect(run.stdout).toContain('set engage-webhook-secret (ENGAGE_WEBHOOK_SECRET)');
  });

  test('usage errors exit 1 with a message', () => {
    const run = spawnSync(process.execPath, [SCRIPT, 'push'], { cwd: REPO_ROOT, env: { PATH: process.env.PATH }, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/usage: keyvault-secrets\.js push --vault/);
  });
});
