// Storage account of the app: the Functions host (AzureWebJobsStorage), the event queues with their
// poison queues, the state containers and the Flex Consumption deployment container.
// Shared-key access is off: everything authenticates with Microsoft Entra ID (managed identity).

@description('Storage account name (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param name string

param location string
param tags object = {}

@description('Replication SKU.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_GZRS', 'Standard_RAGZRS'])
param skuName string = 'Standard_LRS'

@description('Event queues the app writes and triggers on. A `<name>-poison` queue is provisioned for each.')
param queueNames array

@description('Blob containers for app state (checkpoints, drain journal, claim checks).')
param containerNames array

@description('Blob container holding the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Blob container of claim checks (message bodies over 64 KiB); its blobs are deleted after claimCheckRetentionDays.')
param claimCheckContainerName string

@description('Days a claim-check blob is kept: longer than a queue message lives (7 days by default), so a poison message can still be replayed.')
@minValue(1)
param claimCheckRetentionDays int = 14

@description('Blob container of the event archive (append blobs, one per source, hour and instance; replay checkpoints under _replays/).')
param archiveContainerName string

@description('Days an archive blob is kept after its last modification (ARCHIVE_RETENTION_DAYS; text, as azd substitutes it).')
param archiveRetentionDays string = '30'

@description('Days after which archive block blobs move to the cool tier (text). Append blobs (the archive itself) cannot be tiered: Azure sets tiers on block blobs only.')
param archiveCoolAfterDays string = '7'

// Every queue gets its poison queue (the Functions host moves a message there after maxDequeueCount).
var allQueueNames = flatten(map(queueNames, queue => [queue, '${queue}-poison']))
var allContainerNames = union(containerNames, [deploymentContainerName])

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {
  parent: storage
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' = [for container in allContainerNames: {
  parent: blobService
  name: container
  properties: {
    publicAccess: 'None'
  }
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-06-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-06-01' = [for queue in allQueueNames: {
  parent: queueService
  name: queue
}]

// Claim-check blobs are not deleted by their consumers (a redelivery or a replay may still need them):
// a lifecycle rule removes them once no queue message can refer to them any more.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-06-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'expire-claim-checks'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: ['${claimCheckContainerName}/']
            }
            actions: {
              baseBlob: {
                delete: { daysAfterModificationGreaterThan: claimCheckRetentionDays }
              }
            }
          }
        }
        // The event archive: an hour's append blob is last modified in that hour, so it is deleted
        // archiveRetentionDays after it. Only delete applies to append blobs.
        {
          name: 'expire-archive'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['appendBlob', 'blockBlob']
              prefixMatch: ['${archiveContainerName}/']
            }
            actions: {
              baseBlob: {
                delete: { daysAfterModificationGreaterThan: int(archiveRetentionDays) }
              }
            }
          }
        }
        {
          name: 'cool-archive-block-blobs'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: ['${archiveContainerName}/']
            }
            actions: {
              baseBlob: {
                tierToCool: { daysAfterModificationGreaterThan: int(archiveCoolAfterDays) }
              }
            }
          }
        }
      ]
    }
  }
}

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output queueNames array = allQueueNames
output containerNames array = allContainerNames
