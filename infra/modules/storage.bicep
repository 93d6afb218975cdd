// The registry's storage account: one blob container holding the whole storage layout
// (ARCHITECTURE.md), the build queue and its poison queue. Shared-key access is off: every
// caller signs in with its managed identity, and blob downloads are redirected to
// user-delegation SAS URLs, which need no account key.
//
// Roles (built-in, https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage):
//   http, worker  Storage Blob Data Contributor: read and write blobs, create the container
//                 at start-up, and generateUserDelegationKey (the key that signs the SAS).
//                 Storage Queue Data Contributor: the app creates both queues at start-up
//                 (CreateIfNotExists needs queues/write, which the Message Sender and
//                 Processor roles lack); then add (http), and get, update, delete, and add to
//                 the poison queue (worker).
//   scaler        Storage Queue Data Reader: the queue's approximate message count.
param location string
param tags object
param accountName string
param containerName string
param queueName string
param poisonQueueName string
param httpPrincipalId string
param workerPrincipalId string
param scalerPrincipalId string

var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageQueueDataReader = '19e7f393-937e-4f77-808e-94535e297925'

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
  { principalId: scalerPrincipalId, role: storageQueueDataReader }
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
