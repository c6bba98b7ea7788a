// User-assigned managed identity of the Function App: storage (host and data), Key Vault references,
// Application Insights ingestion (local auth disabled) and the deployment container all use it.

param name string
param location string
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
