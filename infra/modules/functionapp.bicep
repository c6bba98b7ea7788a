// Function App on the Flex Consumption plan (FC1, Linux, Node 22). The package is deployed to a blob
// container and read with the user-assigned identity; app settings are passed in whole by main.bicep
// (the one place that names them, checked by test/unit/infra/consistency.test.ts).
// Flex Consumption sets the runtime in functionAppConfig.runtime: FUNCTIONS_WORKER_RUNTIME,
// FUNCTIONS_EXTENSION_VERSION and WEBSITE_RUN_FROM_PACKAGE are not used on this plan.

param planName string
param name string
param location string
param tags object = {}

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Blob endpoint of the storage account (primaryEndpoints.blob, ending in a slash).')
param blobEndpoint string

param deploymentContainerName string

@description('App settings, complete (main.bicep composes them).')
@secure()
param appSettings object

@allowed(['20', '22'])
param nodeVersion string = '22'

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  // azd deploys the `api` service of azure.yaml to the resource carrying this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    // No ftpsState: Flex Consumption refuses it (FTP publishing is off through
    // basicPublishingCredentialsPolicies below).
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'appsettings'
  properties: appSettings
}

// Publishing with basic (user/password) credentials is off: deployments authenticate with Entra ID.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

output name string = site.name
output id string = site.id
output defaultHostName string = site.properties.defaultHostName
