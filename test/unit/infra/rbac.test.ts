/**
 * RBAC, offline: every Storage and Key Vault operation the app makes (found from the code: SDK calls
 * in shared/, functions/, cli/ via the TypeScript compiler; `az keyvault secret` in scripts and
 * workflows; what the platform does for Key Vault references, queue triggers and host storage) has a
 * row in azureRbac.ts with the permission it needs, and the roles infra/modules/rbac.bicep grants
 * the principal that makes it cover that permission. A new call without a row, or a row the roles do
 * not cover, fails here instead of answering 403 in Azure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUILT_IN_ROLES,
  KEY_VAULT_CLI,
  OPERATIONS,
  PLATFORM_OPERATIONS,
  rolesSatisfy,
  type Requirement,
  type RoleDefinition,
} from './azureRbac';
import { BicepScope, objectProperty, parseBicepFile, propertiesNamed, UNKNOWN, type BicepValue } from './bicepModel';
import { filesUnder, INFRA_DIR, loadDeployment, REPO_ROOT } from './deploymentChecks';
import { sdkCalls, type SdkCall } from './storageCalls';
import type { Node } from 'web-tree-sitter';

const RBAC_BICEP = join(INFRA_DIR, 'modules', 'rbac.bicep');
const PROBE = 'test/unit/infra/rbacProbe.generated.ts';

type Principal = 'app' | 'operator';
type Scope = 'storage' | 'vault' | 'applicationInsights';

interface Assignment {
  principal: Principal;
  scope: Scope;
  role: string;
}

/** The role assignments rbac.bicep makes (with an operator principal), read from the Bicep. */
async function assignments(source?: string): Promise<Assignment[]> {
  const file = await parseBicepFile(RBAC_BICEP, source);
  const scope = new BicepScope(file, {
    storageAccountName: 'st',
    keyVaultName: 'kv',
    applicationInsightsName: 'appi',
    appPrincipalId: 'app',
    operatorPrincipalId: 'operator',
    operatorPrincipalType: 'ServicePrincipal',
  });
  const found: Assignment[] = [];
  for (const r of file.resourcesOfType('Microsoft.Authorization/roleAssignments@')) {
    for (const { body, locals } of scope.resourceInstances(r.name)) {
      const properties = objectProperty(body, 'properties')!;
      const principal = scope.evaluate(objectProperty(properties, 'principalId')!, locals);
      const roleCall = objectProperty(properties, 'roleDefinitionId')!;
      // subscriptionResourceId('Microsoft.Authorization/roleDefinitions', <id>): the id is the last argument.
      const args = (roleCall.childForFieldName('arguments') ?? roleCall.namedChildren[1]!).namedChildren.filter(
        (n): n is Node => n !== null,
      );
      const role: BicepValue = scope.evaluate(args[args.length - 1], locals);
      const target = objectProperty(body, 'scope')!.text as Scope;
      if (principal === UNKNOWN || typeof role !== 'string') throw new Error(`${r.name}: principal or role not computable offline`);
      found.push({ principal: principal as Principal, scope: target, role });
    }
  }
  return found;
}

function rolesOf(list: Assignment[], principal: Principal, scope: Scope): RoleDefinition[] {
  return list
    .filter((a) => a.principal === principal && a.scope === scope)
    .map((a) => {
      const role = BUILT_IN_ROLES[a.role];
      if (!role)
        throw new Error(
          `rbac.bicep assigns role ${a.role}, which azureRbac.ts does not define (add its actions/dataActions from the built-in roles docs)`,
        );
      return role;
    });
}

interface Needed {
  what: string;
  principal: Principal;
  scope: Scope;
  requires: Requirement;
}

/** Principal of an SDK call: the Function App for shared/ and functions/, the operator (CLI) for cli/ and shared/. */
function principalsOf(call: SdkCall): Principal[] {
  if (call.at.startsWith('cli/')) return ['operator'];
  if (call.at.startsWith('functions/')) return ['app'];
  return ['app', 'operator'];
}

function neededFor(calls: SdkCall[]): { needed: Needed[]; missingRows: string[] } {
  const needed: Needed[] = [];
  const missingRows: string[] = [];
  for (const call of calls) {
    const row = OPERATIONS[call.operation];
    if (!row) {
      missingRows.push(`${call.at}: ${call.operation} has no row in test/unit/infra/azureRbac.ts OPERATIONS`);
      continue;
    }
    if (row.rest === null) continue;
    for (const principal of principalsOf(call)) {
      needed.push({
        what: `${call.operation} (${row.rest}) at ${call.at}`,
        principal,
        scope: call.package === '@azure/keyvault-secrets' ? 'vault' : 'storage',
        requires: row.requires,
      });
    }
  }
  return { needed, missingRows };
}

function uncovered(needed: Needed[], list: Assignment[]): string[] {
  return needed
    .filter((n) => !rolesSatisfy(rolesOf(list, n.principal, n.scope), n.requires))
    .map(
      (n) =>
        `${n.principal}: ${n.what} needs ${n.requires.map((alt) => alt.join(' + ')).join(' or ')} on the ${n.scope}; granted: ${
          rolesOf(list, n.principal, n.scope)
            .map((r) => r.name)
            .join(', ') || 'nothing'
        }`,
    );
}

const probeSource = [
  "import { QueueServiceClient } from '@azure/storage-queue';",
  "import type { ContainerClient } from '@azure/storage-blob';",
  'const clients = { q: QueueServiceClient.fromConnectionString("UseDevelopmentStorage=true") };',
  'export const probe = async (c: ContainerClient) => {',
  '  const { q } = clients;',
  '  await q.getProperties();',
  "  await c['getBlockBlobClient']('x').setLegalHold(true);",
  '  new Map().delete(1);',
  '};',
].join('\n');

let calls: SdkCall[];
let probeCalls: SdkCall[];
beforeAll(() => {
  // One compiler run for the app and the probe (it takes seconds).
  const all = sdkCalls(['shared', 'functions', 'cli'], { [PROBE]: probeSource });
  calls = all.filter((c) => !c.at.startsWith(PROBE));
  probeCalls = all.filter((c) => c.at.startsWith(PROBE));
});

describe('RBAC: every Storage and Key Vault operation is covered by the granted roles', () => {
  test('the code makes storage calls, each with a row in the table', () => {
    expect(calls.length).toBeGreaterThan(10);
    expect(neededFor(calls).missingRows).toEqual([]);
  });

  test('the scanner finds SDK calls by type (destructuring, element access), not by name', () => {
    expect(probeCalls.map((c) => c.operation)).toEqual([
      'QueueServiceClient.fromConnectionString',
      'QueueServiceClient.getProperties',
      'BlobClient.setLegalHold',
      'ContainerClient.getBlockBlobClient',
    ]);
    expect(neededFor(probeCalls).missingRows).toEqual([
      `${PROBE}:7: BlobClient.setLegalHold has no row in test/unit/infra/azureRbac.ts OPERATIONS`,
    ]);
  });

  test('the app identity and the operator have the roles for every call the code makes', async () => {
    const list = await assignments();
    expect(uncovered(neededFor(calls).needed, list)).toEqual([]);
  });

  test('/api/health uses an operation the app roles cover', async () => {
    const health = calls.filter((c) => c.at.startsWith('shared/health.ts:'));
    expect(health.map((c) => c.operation)).toContain('QueueServiceClient.listQueues');
    const { needed } = neededFor(health);
    expect(needed.length).toBeGreaterThan(0);
    expect(uncovered(needed, await assignments())).toEqual([]);
    // Get Queue Service Properties (what it called before) is not covered: the check sees it.
    expect(
      uncovered(neededFor(probeCalls.filter((c) => c.operation === 'QueueServiceClient.getProperties')).needed, await assignments()),
    ).toEqual([
      expect.stringMatching(
        /^app: QueueServiceClient\.getProperties \(Get Queue Service Properties\).*needs Microsoft\.Storage\/storageAccounts\/queueServices\/read on the storage/,
      ),
      expect.stringMatching(/^operator: QueueServiceClient\.getProperties/),
    ]);
  });

  test('az keyvault secret commands in scripts and workflows are covered for the operator', async () => {
    const sources = [...filesUnder(join(REPO_ROOT, 'scripts'), ''), ...filesUnder(join(REPO_ROOT, '.github', 'workflows'), '.yml')];
    const verbs = new Set<string>();
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/az keyvault secret (\w[\w-]*)/g)) verbs.add(m[1]);
      for (const m of text.matchAll(/['"]keyvault['"],\s*['"]secret['"],\s*['"](\w[\w-]*)['"]/g)) verbs.add(m[1]);
    }
    expect([...verbs]).toContain('set');
    const list = await assignments();
    for (const verb of verbs) {
      const requires = KEY_VAULT_CLI[verb];
      expect({ verb, known: Boolean(requires) }).toEqual({ verb, known: true });
      expect({ verb, covered: rolesSatisfy(rolesOf(list, 'operator', 'vault'), requires) }).toEqual({ verb, covered: true });
    }
  });

  test('what the platform does with the app identity is covered (Key Vault references, queue triggers, host storage)', async () => {
    const list = await assignments();
    const { appSettings } = await loadDeployment({ environmentName: 'test', keyVaultSecretSettings: ['ENGAGE_PASSWORD'] });
    expect(Object.values(appSettings).some((v) => typeof v === 'string' && v.startsWith('@Microsoft.KeyVault('))).toBe(true);
    const triggers = filesUnder(join(REPO_ROOT, 'functions'), '.ts').some((f) => /storageQueue/.test(readFileSync(f, 'utf8')));
    expect(triggers).toBe(true);
    const problems = Object.entries(PLATFORM_OPERATIONS).flatMap(([what, requires]) => {
      const scope: Scope = what.startsWith('Key Vault') ? 'vault' : 'storage';
      return rolesSatisfy(rolesOf(list, 'app', scope), requires) ? [] : [`app: ${what} is not covered on the ${scope}`];
    });
    expect(problems).toEqual([]);
  });

  test('rbac.bicep is read as deployed: dropping the queue role leaves queue calls uncovered', async () => {
    const source = readFileSync(RBAC_BICEP, 'utf8');
    const mutated = source
      .replace(
        'var appStorageRoleIds = [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]',
        'var appStorageRoleIds = [roles.storageBlobDataOwner, roles.storageTableDataContributor]',
      )
      .replace(
        'var operatorStorageRoles = [roles.storageBlobDataOwner, roles.storageQueueDataContributor]',
        'var operatorStorageRoles = [roles.storageBlobDataOwner]',
      );
    expect(mutated).not.toBe(source);
    const list = await assignments(mutated);
    expect(list.filter((a) => a.scope === 'storage').map((a) => BUILT_IN_ROLES[a.role].name)).toEqual([
      'Storage Blob Data Owner',
      'Storage Table Data Contributor',
      'Storage Blob Data Owner',
    ]);
    expect(uncovered(neededFor(calls).needed, list).join('\n')).toMatch(/QueueClient\.sendMessage \(Put Message\)/);
  });

  test('every role rbac.bicep assigns is one the table defines, scoped to one resource', async () => {
    const list = await assignments();
    expect(list.length).toBeGreaterThanOrEqual(5);
    for (const a of list) expect(BUILT_IN_ROLES[a.role]).toBeDefined();
    const file = await parseBicepFile(RBAC_BICEP);
    for (const [, value] of propertiesNamed(file.tree.rootNode, ['scope']))
      expect(['storage', 'vault', 'applicationInsights']).toContain(value.text);
  });

  test('the app identity has the table role the Functions host needs for its diagnostics tables', async () => {
    const list = await assignments();
    expect(list.filter((a) => a.scope === 'storage').map((a) => BUILT_IN_ROLES[a.role].name)).toContain('Storage Table Data Contributor');
  });

  test("the deploying principal's RBAC Administrator condition (docs/deploy.md) allows exactly the roles rbac.bicep assigns", async () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs', 'deploy.md'), 'utf8');
    const roles = /ROLES="([^"]+)"/.exec(doc)?.[1]?.split(/,\s*/) ?? [];
    const assigned = [...new Set((await assignments()).map((a) => a.role))];
    expect([...roles].sort()).toEqual([...assigned].sort());
    expect(doc).toMatch(
      /--condition-version "2\.0" --condition "\(\(!\(ActionMatches\{'Microsoft\.Authorization\/roleAssignments\/write'\}\)\) OR \(@Request\[Microsoft\.Authorization\/roleAssignments:RoleDefinitionId\] ForAnyOfAnyValues:GuidEquals \{\$ROLES\}\)\) AND/,
    );
  });
});
