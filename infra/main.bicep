// engage-bridge on Azure: Function App (Flex Consumption, Node 22) with a user-assigned managed
// identity, a storage account without shared keys (queues + poison queues + state containers), Key
// Vault for the upstream secrets, Application Insights (Entra-only ingestion) on Log Analytics,
// alerts on poisoned messages, storage outages and failed invocations, and an operator workbook.
//
// Subscription scope, as the azd quickstarts: the deployment creates the resource group, so one
// `azd up` works on an empty subscription; the workflow runs
// `az deployment sub create -l <region> -f infra/main.bicep -p @infra/env/<env>.parameters.json`.
// See docs/deploy.md.
//
// This file is the one place that names the app settings (`appSettings` below) and derives the
// queues from the Engage routes; test/unit/infra/consistency.test.ts checks both against the code's
// settings schema (shared/config) so that a setting or queue missing here fails `npm test`.
targetScope = 'subscription'

// ---------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------

// Bicep has no pattern decorator: names are derived from a lower-case copy with `_` and `.`
// turned into `-` (nameSegment below), and the length keeps every derived name within Azure's limits
// (test/unit/infra/names.test.ts checks them against the naming rules).
@minLength(2)
@maxLength(24)
@description('Environment name (dev, prod, ...; letters, digits and dashes): part of every resource name and the azd-env-name tag.')
param environmentName string

// The regions offering the Flex Consumption plan (`az functionapp list-flexconsumption-locations`),
// as in Azure-Samples/functions-quickstart-typescript-azd; azd offers only these when it prompts.
@minLength(1)
@description('Region of the resource group and all resources; must offer the Flex Consumption plan.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group to create (or update); empty = rg-<environmentName>.')
param resourceGroupName string = ''

@description('Function App name; empty = func-<environmentName>-<token>. It is the webhook host name.')
param functionAppName string = ''

@description('Storage account replication.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_GZRS', 'Standard_RAGZRS'])
param storageSku string = 'Standard_LRS'

@description('Flex Consumption instance memory (MB).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Flex Consumption scale-out limit.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Key Vault purge protection (irreversible once on; recommended for production).')
param keyVaultPurgeProtection bool = false

@description('Object id of a person or the deploying service principal that may run the CLI against storage and set Key Vault secrets. Empty = none.')
param operatorPrincipalId string = ''

@description('Kind of operatorPrincipalId: a person (azd up), a group, or a service principal (the deploy workflow, or azd in a pipeline).')
@allowed(['User', 'Group', 'ServicePrincipal'])
param operatorPrincipalType string = 'User'

@description('Whether operatorPrincipalId gets the storage data roles (to run the CLI against storage). The deploy workflow passes false: its principal never reads storage.')
param operatorStorageAccess bool = true

@description('E-mail notified by the alerts; empty = alerts without notification.')
param alertEmail string = ''

// ---------------------------------------------------------------------------------------------
// Queues and containers (names are app settings too; defaults equal the code's defaults)
// ---------------------------------------------------------------------------------------------

@description('ENGAGE_ROUTES: Engage event types → queues (array of {eventTypes, queue, resourceIds?, format?}). Every queue named here is provisioned, with its -poison queue. Default: one queue per event type, as the app\'s default.')
param engageRoutes array = [
  { eventTypes: ['MEETING'], queue: 'engage-meeting' }
  { eventTypes: ['DESK'], queue: 'engage-desk' }
  { eventTypes: ['MEETINGEXTERNAL'], queue: 'engage-meetingexternal' }
  { eventTypes: ['IPPHONE'], queue: 'engage-ipphone' }
  { eventTypes: ['MEETINGPROGRESSION'], queue: 'engage-meetingprogression' }
  { eventTypes: ['DESKPROGRESSION'], queue: 'engage-deskprogression' }
  { eventTypes: ['RESOURCE'], queue: 'engage-resource' }
  { eventTypes: ['VISITOR'], queue: 'engage-visitor' }
]

@description('ENGAGE_UNROUTED_QUEUE: notifications whose Action no route lists.')
param engageUnroutedQueue string = 'engage-unrouted'

@description('DEADLETTER_QUEUE: what the bridge received but could not decode or validate, kept with the reason (messages never expire).')
param deadLetterQueue string = 'engage-deadletter'

@description('NOTIFICATIONS_QUEUE: Notification API (v2 events) drain output.')
param notificationsQueue string = 'notifications-v2'

@description('NOOJEE_EVENTS_QUEUE: Noojee call events.')
param noojeeEventsQueue string = 'noojee-call-events'

@description('NOOJEE_COMMANDS_QUEUE: Noojee call commands (answer / hangup / dial).')
param noojeeCommandsQueue string = 'noojee-call-commands'

// Trigger settings: the functions name them as %SETTING% (the host fails indexing a function whose setting is unset).
@description('NOTIFICATIONS_SCHEDULE / NOOJEE_SCHEDULE / POISON_MONITOR_SCHEDULE: timer schedules (NCRONTAB, six fields).')
param notificationsSchedule string = '0 */1 * * * *'
param noojeeSchedule string = '0 * * * * *'
param poisonMonitorSchedule string = '0 */5 * * * *'
@description('OCCUPANCY_*_QUEUE: queues the example occupancy consumer reads (always provisioned, whatever the routes).')
param occupancyQueues object = {
  OCCUPANCY_MEETING_PROGRESSION_QUEUE: 'engage-meetingprogression'
  OCCUPANCY_DESK_PROGRESSION_QUEUE: 'engage-deskprogression'
  OCCUPANCY_MEETING_EXTERNAL_QUEUE: 'engage-meetingexternal'
  OCCUPANCY_DESK_QUEUE: 'engage-desk'
}

param checkpointContainer string = 'checkpoints'
param journalContainer string = 'drain-journal'
param claimCheckContainer string = 'claim-checks'
param occupancyContainer string = 'occupancy'
@description('ARCHIVE_CONTAINER: the event archive (docs/archive.md).')
param archiveContainer string = 'engage-bridge-archive'
@description('ARCHIVE_RETENTION_DAYS: days an archive blob is kept after its last append (lifecycle rule), as text (azd parameter).')
param archiveRetentionDays string = '30'
@description('Days after which archive block blobs (replay checkpoints) move to the cool tier; append blobs cannot be tiered.')
param archiveCoolAfterDays string = '7'
@description('ARCHIVE_MODE: strict, best-effort or off (empty = the app default, strict).')
@allowed(['', 'strict', 'best-effort', 'off'])
param archiveMode string = ''

// ---------------------------------------------------------------------------------------------
// Upstream settings (empty = unset: the app then uses its default or keeps that feature off)
// ---------------------------------------------------------------------------------------------

@description('ENGAGE_BASE_URL: listener API host, e.g. https://integrationapi.condecosoftware.com')
param engageBaseUrl string = ''
@description('ENGAGE_API_SUFFIX: tenant path segment, e.g. Condeco_Software_UK_Demo')
param engageApiSuffix string = ''
@description('ENGAGE_TOKEN_URL: session-token endpoint, e.g. https://<tenant>.condecosoftware.com/tokenproviderapi/token')
param engageTokenUrl string = ''
@description('ENGAGE_CLIENT_ID: Engage API client id (not a secret).')
param engageClientId string = ''
@description('ENGAGE_SIGNATURE_MODE: off | log | enforce. Empty = enforce once ENGAGE_WEBHOOK_SECRET is in keyVaultSecretSettings, else the app default (log).')
param engageSignatureMode string = ''
@description('ENGAGE_DECODER: none | json | base64-json (empty = app default).')
param engageDecoder string = ''
@description('ENGAGE_MESSAGE_FORMAT: cloudevents | raw (empty = app default).')
param engageMessageFormat string = ''

@description('NOTIFICATIONS_API_BASE_URL: Notification API base URL; empty = drain off.')
param notificationsApiBaseUrl string = ''
@description('NOTIFICATIONS_TOKEN_URL (empty = <base URL>/auth/oauth2.0/v1/token).')
param notificationsTokenUrl string = ''
@description('NOTIFICATIONS_GRANT_TYPE: client_credentials | password (empty = app default).')
param notificationsGrantType string = ''
param notificationsClientId string = ''
param notificationsUsername string = ''
param notificationsAdminClientId string = ''
param notificationsSubscriptionClientId string = ''
@description('NOTIFICATIONS_EVENT_TYPE_IDS: comma-separated event type ids, e.g. 101,102,301.')
param notificationsEventTypeIds string = ''
@description('NOTIFICATIONS_SUBSCRIPTION_ID: use this existing subscription instead of creating one.')
param notificationsSubscriptionId string = ''
@description('NOTIFICATIONS_*_PATH: API path templates (the real paths are not public; see README).')
param notificationsSubscriptionsPath string = ''
param notificationsSubscriptionPath string = ''
param notificationsNotificationsPath string = ''

@description('NOOJEE_BASE_URL: https://<Noojee PBX host>; empty = Noojee off.')
param noojeeBaseUrl string = ''
@description('NOOJEE_EXTENSIONS: extensions to monitor, comma-separated, e.g. 400,410.')
param noojeeExtensions string = ''

@description('Secret settings whose values are in Key Vault (secret name = setting name lower-case, _ → -). Only list secrets that exist in the vault: see docs/deploy.md.')
#disable-next-line secure-secrets-in-params // names of settings, never their values
param keyVaultSecretSettings array = []

@description('Settings without a parameter of their own (tuning, schedules), name → value. Must be known settings and not secrets (checked by npm test).')
param extraAppSettings object = {}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

// `_` and `.` become `-`; runs of `-` collapse and none is left at either end (`dev-`, `my--env`, `a_`
// would otherwise give `--` or a trailing `-`, which storage container names refuse).
var nameSegment = join(filter(split(toLower(replace(replace(environmentName, '_', '-'), '.', '-')), '-'), part => !empty(part)), '-')
var tags = { 'azd-env-name': environmentName, application: 'engage-bridge' }

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${nameSegment}'
  location: location
  tags: tags
}

var resourceToken = toLower(uniqueString(subscription().id, rg.id, environmentName))
var appName = !empty(functionAppName) ? functionAppName : 'func-${nameSegment}-${resourceToken}'
var storageAccountName = 'st${resourceToken}'
var keyVaultName = 'kv-${resourceToken}'
var deploymentContainer = 'app-package-${take(toLower(appName), 32)}-${take(resourceToken, 7)}'

// Every queue the app writes or triggers on: the routes' queues plus the other queue settings.
var engageRouteQueues = map(engageRoutes, route => route.queue)
// The example consumer's queues are created whatever the routes say (its functions trigger on them).
var occupancyQueueNames = map(items(occupancyQueues), q => string(q.value))
var queueNames = union(engageRouteQueues, occupancyQueueNames, [deadLetterQueue, engageUnroutedQueue, notificationsQueue, noojeeEventsQueue, noojeeCommandsQueue])
var containerNames = [checkpointContainer, journalContainer, claimCheckContainer, occupancyContainer, archiveContainer]

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

module identity './modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${nameSegment}-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage './modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: storageAccountName
    location: location
    tags: tags
    skuName: storageSku
    queueNames: queueNames
    containerNames: containerNames
    deploymentContainerName: deploymentContainer
    claimCheckContainerName: claimCheckContainer
    archiveContainerName: archiveContainer
    archiveRetentionDays: archiveRetentionDays
    archiveCoolAfterDays: archiveCoolAfterDays
  }
}

module monitoring './modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${nameSegment}-${resourceToken}'
    applicationInsightsName: 'appi-${nameSegment}-${resourceToken}'
    location: location
    tags: tags
  }
}

module keyVault './modules/keyvault.bicep' = {
  name: 'keyVault'
  scope: rg
  params: {
    name: keyVaultName
    location: location
    tags: tags
    enablePurgeProtection: keyVaultPurgeProtection
  }
}

module rbac './modules/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appPrincipalId: identity.outputs.principalId
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
    operatorStorageAccess: operatorStorageAccess
  }
}

// Key Vault references resolve with the app identity (keyVaultReferenceIdentity in functionapp.bicep).
var secretReferences = toObject(keyVaultSecretSettings, setting => setting, setting => '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${toLower(replace(setting, '_', '-'))})')

// The app settings, complete. Keys are app-setting names: platform settings first, then the app's
// own (shared/config). Empty values count as unset in the app.
var appSettings = union({
  // Host and app storage, identity-based (no connection string, no shared key).
  AzureWebJobsStorage__accountName: storage.outputs.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  // Application Insights with local auth disabled: the identity authenticates ingestion.
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'

  CHECKPOINT_CONTAINER: checkpointContainer
  JOURNAL_CONTAINER: journalContainer
  CLAIM_CHECK_CONTAINER: claimCheckContainer
  DEADLETTER_QUEUE: deadLetterQueue
  OCCUPANCY_CONTAINER: occupancyContainer
  ARCHIVE_CONTAINER: archiveContainer
  ARCHIVE_MODE: archiveMode

  ENGAGE_ROUTES: string(engageRoutes)
  ENGAGE_UNROUTED_QUEUE: engageUnroutedQueue
  ENGAGE_BASE_URL: engageBaseUrl
  ENGAGE_API_SUFFIX: engageApiSuffix
  ENGAGE_TOKEN_URL: engageTokenUrl
  ENGAGE_CLIENT_ID: engageClientId
  ENGAGE_SIGNATURE_MODE: !empty(engageSignatureMode) ? engageSignatureMode : (contains(keyVaultSecretSettings, 'ENGAGE_WEBHOOK_SECRET') ? 'enforce' : '')
  ENGAGE_DECODER: engageDecoder
  ENGAGE_MESSAGE_FORMAT: engageMessageFormat

  NOTIFICATIONS_QUEUE: notificationsQueue
  NOTIFICATIONS_API_BASE_URL: notificationsApiBaseUrl
  NOTIFICATIONS_TOKEN_URL: notificationsTokenUrl
  NOTIFICATIONS_GRANT_TYPE: notificationsGrantType
  NOTIFICATIONS_CLIENT_ID: notificationsClientId
  NOTIFICATIONS_USERNAME: notificationsUsername
  NOTIFICATIONS_ADMIN_CLIENT_ID: notificationsAdminClientId
  NOTIFICATIONS_SUBSCRIPTION_CLIENT_ID: notificationsSubscriptionClientId
  NOTIFICATIONS_EVENT_TYPE_IDS: notificationsEventTypeIds
  NOTIFICATIONS_SUBSCRIPTION_ID: notificationsSubscriptionId
  NOTIFICATIONS_SUBSCRIPTIONS_PATH: notificationsSubscriptionsPath
  NOTIFICATIONS_SUBSCRIPTION_PATH: notificationsSubscriptionPath
  NOTIFICATIONS_NOTIFICATIONS_PATH: notificationsNotificationsPath

  NOOJEE_BASE_URL: noojeeBaseUrl
  NOOJEE_EXTENSIONS: noojeeExtensions
  NOOJEE_EVENTS_QUEUE: noojeeEventsQueue
  NOOJEE_COMMANDS_QUEUE: noojeeCommandsQueue

  NOTIFICATIONS_SCHEDULE: notificationsSchedule
  NOOJEE_SCHEDULE: noojeeSchedule
  POISON_MONITOR_SCHEDULE: poisonMonitorSchedule
}, occupancyQueues, secretReferences, extraAppSettings)

module functionApp './modules/functionapp.bicep' = {
  name: 'functionApp'
  scope: rg
  params: {
    planName: 'plan-${nameSegment}-${resourceToken}'
    name: appName
    location: location
    tags: tags
    identityId: identity.outputs.id
    blobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainer
    appSettings: appSettings
    nodeVersion: '22'
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
  }
  // The host must be able to reach storage, Key Vault and App Insights when it first starts.
  dependsOn: [rbac]
}

module alerts './modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    namePrefix: 'engage-bridge-${nameSegment}'
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    alertEmail: alertEmail
  }
}

module workbook './modules/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    displayName: 'engage-bridge (${environmentName})'
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs (azd writes them to the environment; the deploy workflow reads them)
// ---------------------------------------------------------------------------------------------

@description('Engage listener notificationUrl, without the function key (add ?code=<key>; see docs/deploy.md).')
output ENGAGE_WEBHOOK_URL string = 'https://${functionApp.outputs.defaultHostName}/api/engage/webhook'
output HEALTH_URL string = 'https://${functionApp.outputs.defaultHostName}/api/health'
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_LOCATION string = location
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output QUEUE_NAMES array = storage.outputs.queueNames
// Non-secret Engage settings, for the CLI (`listeners reconcile` in the deploy workflow, or after `azd up`).
output ENGAGE_BASE_URL string = engageBaseUrl
output ENGAGE_API_SUFFIX string = engageApiSuffix
output ENGAGE_TOKEN_URL string = engageTokenUrl
output ENGAGE_CLIENT_ID string = engageClientId
