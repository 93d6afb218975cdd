// The registry's storage account: one blob container holding the whole storage layout
// (ARCHITECTURE.md), the build queue and its poison queue. Shared-key access is off: every
// caller signs in with its managed identity, and blob downloads are redirected to
// user-delegation SAS URLs, which need no account key.
//
// Roles (built-in, https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage):
//   http    Storage Blob Data Contributor: read and write blobs, create the container at
//           start-up, and generateUserDelegationKey (the key that signs the SAS).
//           Storage Queue Data Contributor: the app creates both queues at start-up
//           (CreateIfNotExists needs queues/write, which the Message Sender role lacks), then
//           adds jobs.
//   worker  Storage Blob Data Contributor: layers, manifests, status, layer claims.
//           Storage Queue Data Contributor: the identity of the connection NixeryStorage. The
//           queue trigger needs Storage Queue Data Reader and Message Processor, the poison
//           queue's output binding Storage Queue Data Contributor and Message Sender
//           (learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger,
//           "Identity-based connections"); Contributor holds all of them, and the platform's
//           scaler reads the queue length through the same connection.
param location string
param tags object
param accountName string
param containerName string
param queueName string
param poisonQueueName string
param httpPrincipalId string
param workerPrincipalId string

var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'

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

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource buildQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: queueName
}

resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: poisonQueueName
}

var grants = [
  { principalId: httpPrincipalId, role: storageBlobDataContributor }
  { principalId: httpPrincipalId, role: storageQueueDataContributor }
  { principalId: workerPrincipalId, role: storageBlobDataContributor }
  { principalId: workerPrincipalId, role: storageQueueDataContributor }
]

resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for grant in grants: {
    scope: account
    name: guid(account.id, grant.principalId, grant.role)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', grant.role)
      principalId: grant.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

output name string = account.name
