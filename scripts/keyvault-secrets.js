#!/usr/bin/env node
/**
 * Key Vault secrets of engage-bridge, for the deploy workflow (and by hand).
 *
 *   node scripts/keyvault-secrets.js names
 *       JSON array of the secret settings (shared/config SECRET_SETTINGS) that have a non-empty
 *       value in the environment: pass it to main.bicep as `keyVaultSecretSettings`, so the app gets
 *       a Key Vault reference for exactly the secrets that exist.
 *   node scripts/keyvault-secrets.js push --vault <key vault name>
 *       Stores each of those values in the vault as secret `<setting lower-case, _ → ->`
 *       (the rule main.bicep uses for its references), with `az keyvault secret set`.
 *   node scripts/keyvault-secrets.js check-references --resource-group <rg> --app <function app> [--settings <JSON array>]
 *       Waits until the Function App reports every Key Vault reference (of the listed settings, or
 *       all) as Resolved (`az rest` on .../config/configreferences/appsettings), after asking the platform to
 *       resolve them now (POST .../config/configreferences/appsettings/refresh); fails naming the
 *       settings and their status otherwise. No restart needed.
 *
 * Needs `npm run build` first (reads the secret names from dist/shared/config/settings.js) and, for `push`, an
 * `az login` with the Key Vault Secrets Officer role on the vault. Values never reach the output or
 * a command line: they go to az through a temporary file readable only by this user.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/** Key Vault secret name of a setting: ENGAGE_PASSWORD → engage-password. */
function keyVaultSecretName(setting) {
  return setting.replace(/_/g, '-').toLowerCase();
}

/** Secret settings (not the storage connection string: the app uses its identity) set in `env`. */
function providedSecretSettings(secretSettings, env) {
  return secretSettings.filter((name) => name !== 'AzureWebJobsStorage' && typeof env[name] === 'string' && env[name] !== '');
}

function secretSettingsOfTheApp() {
  try {
    return require('../dist/shared/config/settings').SECRET_SETTINGS;
  } catch (err) {
    throw new Error(`cannot read dist/shared/config/settings.js (run npm run build first): ${err.message}`);
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A role assignment made by the same deployment takes a few minutes to apply, so the first run
 * retries while the vault still answers "forbidden".
 */
function setSecret(vault, name, file, attempts = 10, delayMs = 30_000) {
  const args = [
    'keyvault',
    'secret',
    'set',
    '--vault-name',
    vault,
    '--name',
    keyVaultSecretName(name),
    '--file',
    file,
    '--encoding',
    'utf-8',
    '--output',
    'none',
  ];
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync('az', args, { stdio: ['ignore', 'ignore', 'inherit'] });
      return;
    } catch (err) {
      if (attempt >= attempts) throw new Error(`az keyvault secret set ${keyVaultSecretName(name)} failed ${attempts} times`);
      process.stdout.write(`retrying ${keyVaultSecretName(name)} in ${delayMs / 1000} s (role assignments may still be applying)\n`);
      sleep(delayMs);
    }
  }
}

function push(vault, names, env) {
  const dir = mkdtempSync(join(tmpdir(), 'kv-'));
  try {
    for (const name of names) {
      const file = join(dir, 'value');
      writeFileSync(file, env[name], { mode: 0o600 });
      setSecret(vault, name, file);
      rmSync(file);
      process.stdout.write(`set ${keyVaultSecretName(name)} (${name})\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Settings whose Key Vault reference is not Resolved: `[{name, status}]`, from the configreferences answer. */
function unresolvedReferences(answer, expected) {
  const statuses = new Map((answer.value ?? []).map((r) => [r.name, r.properties?.status ?? 'unknown']));
  const names = expected ?? [...statuses.keys()];
  return names.map((name) => ({ name, status: statuses.get(name) ?? 'not reported' })).filter((r) => r.status !== 'Resolved');
}

/**
 * Asks the platform to resolve the app's Key Vault references now (instead of within 24 h or at the next
 * restart): the documented POST `<site>/config/configreferences/appsettings/refresh` ("Use Key Vault
 * references …", Rotation), then polls their status until all are Resolved (attempts × delay, default 20 × 15 s).
 */
function checkReferences(resourceGroup, app, expected, env) {
  const attempts = Number(env.KV_CHECK_ATTEMPTS ?? 20);
  const delayMs = Number(env.KV_CHECK_DELAY_MS ?? 15_000);
  const site = `/subscriptions/{subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Web/sites/${app}`;
  const url = `${site}/config/configreferences/appsettings?api-version=2025-03-01`;
  execFileSync(
    'az',
    ['rest', '--method', 'post', '--url', `${site}/config/configreferences/appsettings/refresh?api-version=2022-03-01`, '--output', 'none'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  let pending = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const answer = JSON.parse(
      execFileSync('az', ['rest', '--method', 'get', '--url', url, '--output', 'json'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    pending = unresolvedReferences(answer, expected);
    if (pending.length === 0) {
      process.stdout.write(`Key Vault references resolved${expected ? `: ${expected.join(', ')}` : ''}\n`);
      return;
    }
    if (attempt < attempts) {
      process.stdout.write(`waiting for Key Vault references: ${pending.map((r) => `${r.name} (${r.status})`).join(', ')}\n`);
      sleep(delayMs);
    }
  }
  throw new Error(`Key Vault references not resolved: ${pending.map((r) => `${r.name} (${r.status})`).join(', ')}`);
}

function option(args, name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function main(argv, env) {
  const [command, ...rest] = argv;
  if (command === 'check-references') {
    const resourceGroup = option(rest, '--resource-group');
    const app = option(rest, '--app');
    if (!resourceGroup || !app)
      throw new Error('usage: keyvault-secrets.js check-references --resource-group <rg> --app <name> [--settings <JSON array>]');
    const settings = option(rest, '--settings');
    checkReferences(resourceGroup, app, settings ? JSON.parse(settings) : undefined, env);
    return;
  }
  const names = providedSecretSettings(secretSettingsOfTheApp(), env);
  if (command === 'names') {
    process.stdout.write(`${JSON.stringify(names)}\n`);
    return;
  }
  if (command === 'push') {
    const vault = option(rest, '--vault');
    if (!vault) throw new Error('usage: keyvault-secrets.js push --vault <key vault name>');
    if (names.length === 0) process.stdout.write('no secret settings in the environment: nothing to store\n');
    push(vault, names, env);
    return;
  }
  throw new Error('usage: keyvault-secrets.js names | push --vault <key vault name> | check-references --resource-group <rg> --app <name>');
}

module.exports = { keyVaultSecretName, providedSecretSettings, unresolvedReferences };

if (require.main === module) {
  try {
    main(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
  }
}
