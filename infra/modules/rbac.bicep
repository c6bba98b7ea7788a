// Role assignments, least privilege, each scoped to the one resource it is about:
// - app identity → storage account: Storage Blob Data Owner (host keys, timer/singleton leases,
//   deployment package, checkpoints, journal, claim checks), Storage Queue Data Contributor
//   (queue triggers, queue writes, poison queues) and Storage Table Data Contributor (the Functions
//   host's own diagnostics tables, e.g. AzureFunctionsDiagnosticEvents; the app itself uses no table).
// - app identity → Key Vault: Key Vault Secrets User (resolve Key Vault references).
// - app identity → Application Insights: Monitoring Metrics Publisher (local auth is disabled).
// - optional operator (a person or the deploying service principal) → Key Vault Secrets Officer (to put
//   the secrets in) and, unless operatorStorageAccess is false, Storage Blob Data Owner + Storage Queue
//   Data Contributor (for the engage-bridge CLI: status, replay). The deploy workflow's principal gets no
//   storage data role (it never reads storage).

param storageAccountName string
param keyVaultName string
param applicationInsightsName string

@description('Principal id of the Function App\'s user-assigned managed identity.')
param appPrincipalId string

@description('Optional principal (object id) allowed to run the CLI against storage and to set Key Vault secrets. Empty = none.')
param operatorPrincipalId string = ''

@allowed(['User', 'Group', 'ServicePrincipal'])
param operatorPrincipalType string = 'User'

@description('Whether the operator gets the storage data roles (for the CLI). The deploy workflow passes false.')
param operatorStorageAccess bool = true

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

var operatorStorageRoles = [roles.storageBlobDataOwner, roles.storageQueueDataContributor]
var appStorageRoleIds = [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource appStorageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in appStorageRoleIds: {
  name: guid(storage.id, appPrincipalId, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

resource appSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, appPrincipalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource operatorStorageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in operatorStorageRoles: if (!empty(operatorPrincipalId) && operatorStorageAccess) {
  name: guid(storage.id, operatorPrincipalId, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}]

resource operatorSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(vault.id, operatorPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}
