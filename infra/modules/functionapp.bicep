// The HTTP function app (src/Functions) on Azure Functions' Flex Consumption plan, .NET
// isolated worker: functionAppConfig.runtime dotnet-isolated 10.0, so the platform provides
// .NET 10 and the package is framework-dependent (scripts/publish). Flex lists dotnet-isolated
// 10.0 among its runtimes (`az functionapp list-flexconsumption-runtimes`, and the same list in
// Get-AzFunctionAppFlexConsumptionRuntime, learn.microsoft.com/powershell/module/az.functions/
// get-azfunctionappflexconsumptionruntime: "dotnet-isolated 10.0 … FC1"; Azure Functions Core
// Tools' stacks.json gives .NET 10 Isolated the FC1 runtime {name: dotnet-isolated, version:
// 10.0}). The runtime is set here, not by the FUNCTIONS_WORKER_RUNTIME app setting, which Flex
// rejects (learn.microsoft.com/azure/azure-functions/functions-app-settings, "Flex Consumption
// plan deprecations"). The host reads the functions from the package's functions.metadata and
// host.json's empty route prefix puts the registry at /v2/.
//
// Why Flex Consumption: the .NET isolated worker is its first-class .NET stack (custom handlers
// are not among its documented stacks), it scales to zero and bills per execution, and both its
// host storage (AzureWebJobsStorage__*) and its deployment package work with a managed
// identity, so no storage account needs shared keys. Linux Consumption (Y1) takes no new apps,
// and Elastic Premium keeps an instance running around the clock and mounts an Azure Files
// share reached with an account key. Flex constraints that matter here: not every region
// offers it (`az functionapp list-flexconsumption-locations`), maximumInstanceCount is 40 at
// least, no deployment slots. HTTP responses are capped at 230 s by the front end,
// which the registry never nears: manifest requests wait NIXERY_BUILD_WAIT (20 s) at most, and
// blob downloads are 307 redirects to SAS URLs, served by Blob Storage, not by the app.
// learn.microsoft.com/azure/azure-functions/flex-consumption-plan
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

@description('The app\'s own settings (main.bicep; README: Configuration).')
param appSettings object

// Read by the Functions host, not by the app (tests/Functions.Tests/Deploy lists them).
var hostSettings = {
  AzureWebJobsStorage__accountName: hostStorageName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: insightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // The landing page is the app's function at "/", not the host's placeholder page.
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
      appSettings: [for setting in items(union(appSettings, hostSettings)): { name: setting.key, value: setting.value }]
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
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
