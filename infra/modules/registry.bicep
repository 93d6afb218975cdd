// The container registry the worker image is built into (`az acr build`, run by
// scripts/deploy) and pulled from by the worker with its managed identity (AcrPull); the
// admin user stays off. Basic is the smallest tier.
param location string
param tags object
param name string
param workerPrincipalId string

// Built-in role: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
  }
}

resource workerPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: registry
  name: guid(registry.id, workerPrincipalId, acrPull)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
    principalId: workerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = registry.name
output loginServer string = registry.properties.loginServer
