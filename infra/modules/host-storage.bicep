// A Functions host's own storage account (AzureWebJobsStorage: host locks, keys, the queue
// trigger's bookkeeping) and, for the Flex Consumption app, the blob container its app package
// is run from. One account per function app, each apart from the registry's data, so that the
// role a host needs, Storage Blob Data Owner, covers nothing of the registry and nothing of the
// other app (one account per function app is also what
// learn.microsoft.com/azure/azure-functions/storage-considerations advises). Shared-key access
// is off; the host signs in with its app's identity (AzureWebJobsStorage__credential and
// __clientId, learn.microsoft.com/azure/azure-functions/functions-reference, "Connecting to host
// storage with an identity").
param location string
param tags object
param accountName string
@description('The app package container (Flex Consumption); empty for none.')
param deploymentContainerName string = ''
param principalId string

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

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = if (!empty(deploymentContainerName)) {
  parent: blobService
  name: empty(deploymentContainerName) ? 'unused' : deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource hostOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: account
  name: guid(account.id, principalId, storageBlobDataOwner)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = account.name
