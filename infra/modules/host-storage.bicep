// The Functions host's own storage account (AzureWebJobsStorage: keys, leases) and the blob
// container Flex Consumption runs the app package from. Kept apart from the registry's data,
// so that the role the host needs, Storage Blob Data Owner, covers nothing of the registry.
// Shared-key access is off; the host signs in with the http identity.
param location string
param tags object
param accountName string
param deploymentContainerName string
param httpPrincipalId string

// Built-in role: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: accountName
  location: location
  tags: tags
  sku: {
    name: 'Standard_LRS'
  }
  kind: 'StorageV2'
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource hostOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: account
  name: guid(account.id, httpPrincipalId, storageBlobDataOwner)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: httpPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = account.name
