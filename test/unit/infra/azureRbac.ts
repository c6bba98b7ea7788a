/**
 * Azure RBAC facts the infra tests check against, written down from the Azure docs:
 * - the permission each Storage / Key Vault operation needs ("Authorize with Microsoft Entra ID",
 *   tables "Permissions for Blob service operations" and "Permissions for Queue service operations"
 *   of the Storage REST reference; Key Vault RBAC guide), keyed by the SDK method that sends it;
 * - the built-in role definitions (actions / dataActions) of the roles infra/modules/rbac.bicep uses.
 * A permission requirement is a list of alternatives, each a list of permissions all needed (the
 * docs' "A or (B and C)").
 */

const Q = 'Microsoft.Storage/storageAccounts/queueServices';
const B = 'Microsoft.Storage/storageAccounts/blobServices';
const KV = 'Microsoft.KeyVault/vaults/secrets';
const T = 'Microsoft.Storage/storageAccounts/tableServices';

/** One of the alternatives suffices; every permission of an alternative is needed. */
export type Requirement = readonly (readonly string[])[];

export interface OperationRow {
  /** The REST operation the SDK method sends, as the docs name it; `null` = no request (local helper). */
  rest: string | null;
  requires: Requirement;
}

const one = (permission: string): Requirement => [[permission]];
const local: OperationRow = { rest: null, requires: [] };
const queueRead = { rest: 'Get Queue Metadata', requires: one(`${Q}/queues/read`) };
const queueWrite = { rest: 'Create Queue', requires: one(`${Q}/queues/write`) };
const queueDelete = { rest: 'Delete Queue', requires: one(`${Q}/queues/delete`) };
const containerRead = { rest: 'Get Container Properties', requires: one(`${B}/containers/read`) };
const containerWrite = { rest: 'Create Container', requires: one(`${B}/containers/write`) };
const containerDelete = { rest: 'Delete Container', requires: one(`${B}/containers/delete`) };
const blobRead = { rest: 'Get Blob', requires: one(`${B}/containers/blobs/read`) };
const blobPropertiesRead = { rest: 'Get Blob Properties', requires: one(`${B}/containers/blobs/read`) };
const blobWrite = { rest: 'Set Blob Properties / Metadata', requires: one(`${B}/containers/blobs/write`) };
const blobDelete = { rest: 'Delete Blob', requires: one(`${B}/containers/blobs/delete`) };
const putBlob = { rest: 'Put Blob', requires: [[`${B}/containers/blobs/write`], [`${B}/containers/blobs/add/action`]] };
// uploadData / uploadStream / uploadFile may split into Put Block + Put Block List: write only.
const blockUpload = { rest: 'Put Blob or Put Block + Put Block List', requires: one(`${B}/containers/blobs/write`) };
const lease = { rest: 'Lease Blob / Lease Container', requires: [[`${B}/containers/blobs/write`, `${B}/containers/write`]] };

/**
 * SDK method (`<declaring class>.<method>`, see storageCalls.ts) → REST operation and permission.
 * Covers the common Storage and Key Vault operations; a call of a method missing here fails
 * rbac.test.ts until its row is added (with the permission from the docs).
 */
export const OPERATIONS: Readonly<Record<string, OperationRow>> = {
  // @azure/storage-queue
  'QueueServiceClient.fromConnectionString': local,
  'QueueServiceClient.getQueueClient': local,
  'QueueServiceClient.generateAccountSasUrl': local,
  'QueueServiceClient.getProperties': { rest: 'Get Queue Service Properties', requires: one(`${Q}/read`) },
  'QueueServiceClient.setProperties': { rest: 'Set Queue Service Properties', requires: one(`${Q}/read`) },
  'QueueServiceClient.getStatistics': { rest: 'Get Queue Service Stats', requires: one(`${Q}/read`) },
  'QueueServiceClient.listQueues': { rest: 'List Queues', requires: one(`${Q}/queues/read`) },
  'QueueServiceClient.createQueue': queueWrite,
  'QueueServiceClient.deleteQueue': queueDelete,
  'QueueClient.generateSasUrl': local,
  'QueueClient.create': queueWrite,
  'QueueClient.createIfNotExists': queueWrite,
  'QueueClient.delete': queueDelete,
  'QueueClient.deleteIfExists': queueDelete,
  'QueueClient.exists': queueRead,
  'QueueClient.getProperties': queueRead,
  'QueueClient.setMetadata': { rest: 'Set Queue Metadata', requires: one(`${Q}/queues/write`) },
  'QueueClient.getAccessPolicy': { rest: 'Get Queue ACL', requires: one(`${Q}/queues/getAcl/action`) },
  'QueueClient.setAccessPolicy': { rest: 'Set Queue ACL', requires: one(`${Q}/queues/setAcl/action`) },
  'QueueClient.sendMessage': { rest: 'Put Message', requires: [[`${Q}/queues/messages/add/action`], [`${Q}/queues/messages/write`]] },
  'QueueClient.receiveMessages': {
    rest: 'Get Messages',
    requires: [[`${Q}/queues/messages/process/action`], [`${Q}/queues/messages/delete`, `${Q}/queues/messages/read`]],
  },
  'QueueClient.peekMessages': { rest: 'Peek Messages', requires: one(`${Q}/queues/messages/read`) },
  'QueueClient.deleteMessage': {
    rest: 'Delete Message',
    requires: [[`${Q}/queues/messages/process/action`], [`${Q}/queues/messages/delete`]],
  },
  'QueueClient.clearMessages': { rest: 'Clear Messages', requires: one(`${Q}/queues/messages/delete`) },
  'QueueClient.updateMessage': { rest: 'Update Message', requires: one(`${Q}/queues/messages/write`) },

  // @azure/storage-blob
  'BlobServiceClient.fromConnectionString': local,
  'BlobServiceClient.getContainerClient': local,
  'BlobServiceClient.getBlobBatchClient': local,
  'BlobServiceClient.generateAccountSasUrl': local,
  'BlobServiceClient.getProperties': { rest: 'Get Blob Service Properties', requires: one(`${B}/read`) },
  'BlobServiceClient.setProperties': { rest: 'Set Blob Service Properties', requires: one(`${B}/write`) },
  'BlobServiceClient.getStatistics': { rest: 'Get Blob Service Stats', requires: one(`${B}/read`) },
  'BlobServiceClient.getAccountInfo': { rest: 'Get Account Information', requires: one(`${B}/getInfo/action`) },
  'BlobServiceClient.getUserDelegationKey': { rest: 'Get User Delegation Key', requires: one(`${B}/generateUserDelegationKey/action`) },
  'BlobServiceClient.listContainers': { rest: 'List Containers', requires: one(`${B}/containers/read`) },
  'BlobServiceClient.createContainer': containerWrite,
  'BlobServiceClient.deleteContainer': containerDelete,
  'BlobServiceClient.undeleteContainer': { rest: 'Restore Container', requires: one(`${B}/containers/write`) },
  'BlobServiceClient.findBlobsByTags': { rest: 'Find Blobs by Tags', requires: one(`${B}/containers/blobs/filter/action`) },
  'ContainerClient.getBlobClient': local,
  'ContainerClient.getBlockBlobClient': local,
  'ContainerClient.getAppendBlobClient': local,
  'ContainerClient.getPageBlobClient': local,
  'ContainerClient.getBlobLeaseClient': local,
  'ContainerClient.generateSasUrl': local,
  'ContainerClient.create': containerWrite,
  'ContainerClient.createIfNotExists': containerWrite,
  'ContainerClient.delete': containerDelete,
  'ContainerClient.deleteIfExists': containerDelete,
  'ContainerClient.exists': containerRead,
  'ContainerClient.getProperties': containerRead,
  'ContainerClient.setMetadata': { rest: 'Set Container Metadata', requires: one(`${B}/containers/write`) },
  'ContainerClient.getAccessPolicy': { rest: 'Get Container ACL', requires: one(`${B}/containers/getAcl/action`) },
  'ContainerClient.setAccessPolicy': { rest: 'Set Container ACL', requires: one(`${B}/containers/setAcl/action`) },
  'ContainerClient.listBlobsFlat': { rest: 'List Blobs', requires: one(`${B}/containers/blobs/read`) },
  'ContainerClient.listBlobsByHierarchy': { rest: 'List Blobs', requires: one(`${B}/containers/blobs/read`) },
  'ContainerClient.findBlobsByTags': { rest: 'Find Blobs by Tags in Container', requires: one(`${B}/containers/blobs/filter/action`) },
  'ContainerClient.uploadBlockBlob': putBlob,
  'ContainerClient.deleteBlob': blobDelete,
  'BlobClient.getBlockBlobClient': local,
  'BlobClient.getAppendBlobClient': local,
  'BlobClient.getPageBlobClient': local,
  'BlobClient.getBlobLeaseClient': local,
  'BlobClient.generateSasUrl': local,
  'BlobClient.withSnapshot': local,
  'BlobClient.withVersion': local,
  'BlobClient.download': blobRead,
  'BlobClient.downloadToBuffer': blobRead,
  'BlobClient.downloadToFile': blobRead,
  'BlobClient.exists': blobPropertiesRead,
  'BlobClient.getProperties': blobPropertiesRead,
  'BlobClient.delete': blobDelete,
  'BlobClient.deleteIfExists': blobDelete,
  'BlobClient.undelete': { rest: 'Undelete Blob', requires: one(`${B}/containers/write`) },
  'BlobClient.setMetadata': blobWrite,
  'BlobClient.setHTTPHeaders': blobWrite,
  'BlobClient.setAccessTier': { rest: 'Set Blob Tier', requires: one(`${B}/containers/blobs/write`) },
  'BlobClient.getTags': { rest: 'Get Blob Tags', requires: one(`${B}/containers/blobs/tags/read`) },
  'BlobClient.setTags': { rest: 'Set Blob Tags', requires: one(`${B}/containers/blobs/tags/write`) },
  'BlobClient.createSnapshot': { rest: 'Snapshot Blob', requires: [[`${B}/containers/blobs/write`], [`${B}/containers/blobs/add/action`]] },
  'BlobClient.beginCopyFromURL': {
    rest: 'Copy Blob',
    requires: [
      [`${B}/containers/blobs/write`, `${B}/containers/blobs/read`],
      [`${B}/containers/blobs/add/action`, `${B}/containers/blobs/read`],
    ],
  },
  'BlobClient.syncCopyFromURL': {
    rest: 'Copy Blob from URL',
    requires: [
      [`${B}/containers/blobs/write`, `${B}/containers/blobs/read`],
      [`${B}/containers/blobs/add/action`, `${B}/containers/blobs/read`],
    ],
  },
  'BlobClient.abortCopyFromURL': { rest: 'Abort Copy Blob', requires: one(`${B}/containers/blobs/write`) },
  'BlockBlobClient.upload': putBlob,
  'BlockBlobClient.uploadData': blockUpload,
  'BlockBlobClient.uploadStream': blockUpload,
  'BlockBlobClient.uploadFile': blockUpload,
  'BlockBlobClient.stageBlock': { rest: 'Put Block', requires: one(`${B}/containers/blobs/write`) },
  'BlockBlobClient.commitBlockList': { rest: 'Put Block List', requires: one(`${B}/containers/blobs/write`) },
  'BlockBlobClient.getBlockList': { rest: 'Get Block List', requires: one(`${B}/containers/blobs/read`) },
  // The event archive (shared/archive/writer.ts): Put Blob of an append blob (If-None-Match: *), then Append Block.
  'AppendBlobClient.createIfNotExists': putBlob,
  'AppendBlobClient.appendBlock': {
    rest: 'Append Block',
    requires: [[`${B}/containers/blobs/write`], [`${B}/containers/blobs/add/action`]],
  },
  'BlockBlobClient.query': { rest: 'Query Blob Contents', requires: one(`${B}/containers/blobs/read`) },
  'BlobLeaseClient.acquireLease': lease,
  'BlobLeaseClient.renewLease': lease,
  'BlobLeaseClient.releaseLease': lease,
  'BlobLeaseClient.changeLease': lease,
  'BlobLeaseClient.breakLease': lease,

  // @azure/keyvault-secrets
  'SecretClient.getSecret': { rest: 'Get Secret', requires: one(`${KV}/getSecret/action`) },
  'SecretClient.setSecret': { rest: 'Set Secret', requires: one(`${KV}/setSecret/action`) },
  'SecretClient.listPropertiesOfSecrets': { rest: 'Get Secrets', requires: one(`${KV}/readMetadata/action`) },
};

/** `az keyvault secret <verb>` (scripts, workflows) → permission. */
export const KEY_VAULT_CLI: Readonly<Record<string, Requirement>> = {
  set: one(`${KV}/setSecret/action`),
  show: one(`${KV}/getSecret/action`),
  list: one(`${KV}/readMetadata/action`),
};

/** What the platform does with the app's identity, beside the app's own calls. */
export const PLATFORM_OPERATIONS: Readonly<Record<string, Requirement>> = {
  // App settings `@Microsoft.KeyVault(...)` (keyVaultReferenceIdentity = the app identity).
  'Key Vault reference': one(`${KV}/getSecret/action`),
  // Queue trigger (functions with a storageQueue trigger): Azure Functions' Queue storage trigger
  // docs list Storage Queue Data Reader + Message Processor; output bindings and the poison queue
  // need Put Message and Create Queue.
  'Queue trigger: Get Messages': OPERATIONS['QueueClient.receiveMessages'].requires,
  'Queue trigger: Delete Message': OPERATIONS['QueueClient.deleteMessage'].requires,
  'Queue trigger: Update Message': OPERATIONS['QueueClient.updateMessage'].requires,
  'Queue trigger: Get Queue Metadata': OPERATIONS['QueueClient.getProperties'].requires,
  'Queue trigger: Put Message (poison queue, output binding)': OPERATIONS['QueueClient.sendMessage'].requires,
  'Queue trigger: Create Queue (poison queue)': OPERATIONS['QueueClient.createIfNotExists'].requires,
  // AzureWebJobsStorage (host keys, timer and singleton leases) and the Flex deployment package.
  'Host storage: read/write/delete blobs': [[`${B}/containers/blobs/read`, `${B}/containers/blobs/write`, `${B}/containers/blobs/delete`]],
  'Host storage: create containers, leases': [[`${B}/containers/write`, `${B}/containers/read`]],
};

export interface RoleDefinition {
  name: string;
  actions: readonly string[];
  notActions?: readonly string[];
  dataActions: readonly string[];
  notDataActions?: readonly string[];
}

/** Built-in role definitions (Azure docs "Azure built-in roles"), by role definition id. */
export const BUILT_IN_ROLES: Readonly<Record<string, RoleDefinition>> = {
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': {
    name: 'Storage Blob Data Owner',
    actions: [`${B}/containers/*`, `${B}/generateUserDelegationKey/action`],
    dataActions: [`${B}/containers/blobs/*`],
  },
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': {
    name: 'Storage Queue Data Contributor',
    actions: [`${Q}/queues/delete`, `${Q}/queues/read`, `${Q}/queues/write`],
    dataActions: [
      `${Q}/queues/messages/delete`,
      `${Q}/queues/messages/read`,
      `${Q}/queues/messages/write`,
      `${Q}/queues/messages/process/action`,
    ],
  },
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': {
    name: 'Storage Table Data Contributor',
    actions: [`${T}/tables/read`, `${T}/tables/write`, `${T}/tables/delete`],
    dataActions: [
      `${T}/tables/entities/read`,
      `${T}/tables/entities/write`,
      `${T}/tables/entities/delete`,
      `${T}/tables/entities/add/action`,
      `${T}/tables/entities/update/action`,
    ],
  },
  '4633458b-17de-408a-b874-0445c86b69e6': {
    name: 'Key Vault Secrets User',
    actions: [],
    dataActions: [`${KV}/getSecret/action`, `${KV}/readMetadata/action`],
  },
  'b86a8fe4-44ce-4948-aee5-eccb2c155cd7': {
    name: 'Key Vault Secrets Officer',
    actions: [
      'Microsoft.Authorization/*/read',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Support/*',
      'Microsoft.KeyVault/checkNameAvailability/read',
      'Microsoft.KeyVault/deletedVaults/read',
      'Microsoft.KeyVault/locations/*/read',
      'Microsoft.KeyVault/vaults/*/read',
      'Microsoft.KeyVault/operations/read',
    ],
    dataActions: [`${KV}/*`],
  },
  '3913510d-42f4-4e42-8a64-420c390055eb': {
    name: 'Monitoring Metrics Publisher',
    actions: ['Microsoft.Insights/Register/Action', 'Microsoft.Support/*', 'Microsoft.Resources/subscriptions/resourceGroups/read'],
    dataActions: ['Microsoft.Insights/Metrics/Write', 'Microsoft.Insights/Telemetry/Write'],
  },
};

/** Azure's wildcard match of a role permission (`*` = any characters) against an operation, case-insensitive. */
export function permissionMatches(pattern: string, operation: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return regex.test(operation);
}

/** Whether roles grant a permission (in actions or dataActions, minus their not* exclusions). */
export function rolesGrant(roles: readonly RoleDefinition[], permission: string): boolean {
  return roles.some(
    (r) =>
      (r.actions.some((a) => permissionMatches(a, permission)) && !(r.notActions ?? []).some((a) => permissionMatches(a, permission))) ||
      (r.dataActions.some((a) => permissionMatches(a, permission)) &&
        !(r.notDataActions ?? []).some((a) => permissionMatches(a, permission))),
  );
}

/** Whether roles satisfy a requirement (one alternative fully granted). */
export function rolesSatisfy(roles: readonly RoleDefinition[], requirement: Requirement): boolean {
  return requirement.some((alternative) => alternative.every((permission) => rolesGrant(roles, permission)));
}
