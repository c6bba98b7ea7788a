// Key Vault (RBAC authorization) for the upstream secrets (Engage, Notification API, Noojee).
// The Function App reads them through Key Vault references in its app settings; the values are put
// in by the deploy workflow (scripts/keyvault-secrets.js) or by hand (`az keyvault secret set`),
// never through Bicep parameters, so they never land in deployment history.

@description('Key Vault name (3-24 letters, digits and dashes).')
@minLength(3)
@maxLength(24)
param name string

param location string
param tags object = {}

@description('Purge protection cannot be turned off again once on: recommended for production.')
param enablePurgeProtection bool = false

@description('Days a deleted vault or secret can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 7

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
