// The HTTP app on Azure Functions, as a custom handler: the Functions host starts the
// published app (host.json: defaultExecutablePath) on the port it assigns
// (FUNCTIONS_CUSTOMHANDLER_PORT) and forwards every request the function definitions
// (deploy/functions/*/function.json) route to it, with an empty route prefix so the registry
// answers at /v2/.
//
// Plan: Flex Consumption (FC1), Linux. It runs custom handlers (functionAppConfig.runtime
// 'custom', which replaces the FUNCTIONS_WORKER_RUNTIME=custom app setting of other plans:
// Flex rejects that setting), scales to zero and bills per execution, and both its host
// storage (AzureWebJobsStorage__*) and its deployment package work with a managed identity,
// so no storage account needs shared keys. Linux Consumption (Y1) takes no new apps, and
// Elastic Premium keeps an instance running around the clock and mounts an Azure Files
// share reached with an account key. Flex constraints that matter here: not every region
// offers it (`az functionapp list-flexconsumption-locations`), maximumInstanceCount is 40 at
// least, and no deployment slots. HTTP responses are capped at 230 s by the front end, which
// the registry never nears: manifest requests wait NIXERY_BUILD_WAIT (20 s) at most, and blob
// downloads are 307 redirects to SAS URLs, served by Blob Storage, not by the app.
param location string
param tags object
param name string
param planName string
param identityId string
param identityClientId string
param hostStorageName string
param deploymentContainerName string
param insightsConnectionString string
param maxInstances int
param instanceMemoryMB int

@description('The registry settings shared with the worker (main.bicep).')
param registrySettings object

// The HTTP app serves; the worker container builds.
var httpSettings = {
  AZURE_CLIENT_ID: identityClientId
  NIXERY_WORKERS: '0'
}

// Read by the Functions host, not by the app (tests/Functions.Tests/Deploy lists them).
var hostSettings = {
  AzureWebJobsStorage__accountName: hostStorageName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: insightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  AzureWebJobsDisableHomepage: 'true'
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
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
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [for setting in items(union(registrySettings, httpSettings, hostSettings)): { name: setting.key, value: setting.value }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: 'https://${hostStorageName}.blob.${environment().suffixes.storage}/${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maxInstances
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
