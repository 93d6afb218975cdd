// The build worker: the build function app (src/Worker, the queue-triggered function `build`)
// as an Azure Functions app on the Container Apps environment, in the image
// deploy/worker.Containerfile describes (the Functions .NET isolated host beside single-user
// Nix), pulled from the registry with the worker identity. The environment exists from the
// first deployment on; the app only once there is an image for it (scripts/deploy builds the
// image into the registry in between).
//
// Resource shape: a container app with kind 'functionapp', the native "Azure Functions on
// Azure Container Apps" model (learn.microsoft.com/azure/container-apps/functions-overview;
// Bicep: Azure/azure-functions-on-container-apps samples/NativeFunctionsOnAca). Not the
// Microsoft.Web/sites app of kind 'functionapp,linux,container,azurecontainerapps' with a
// managedEnvironmentId: Microsoft calls that proxy model "Functions on Azure Container Apps V1",
// legacy and not recommended for new deployments
// (learn.microsoft.com/azure/container-apps/migrate-functions), and retires it on 2027-09-29
// (azure.microsoft.com/updates?id=570800). Microsoft.App 2025-07-01 is the first GA API whose
// container app type has `kind` (the pinned Bicep CLI warns BCP187 on 2025-01-01).
//
// Scaling: Functions on Container Apps configures the scale rule itself from the function's
// trigger, "eliminating the need for manual KEDA scale rule definitions" (functions-overview,
// "Event-driven scaling"): from functions.metadata the queue trigger on %NIXERY_QUEUE_NAME%
// with the connection NixeryStorage, resolved through the settings below, read with that
// connection's identity (Queue Storage is among the triggers that scale with managed identity:
// learn.microsoft.com/azure/azure-functions/functions-container-apps-hosting). That replaces
// the hand-written KEDA azure-queue rule and the scaler identity it signed in with. What is
// set here is the range: minReplicas 0 (nothing runs while nothing is queued) to maxReplicas
// = maxWorkers. Each replica runs one build at a time (src/Worker/host.json: batchSize 1,
// newBatchThreshold 0), so a queue deeper than maxWorkers waits. The platform needs ingress
// to scale a Functions app ("Ingress Requirement for Auto-Scaling", functions-overview,
// "Considerations"): it is internal, reachable only inside the environment, on the port the
// Functions host listens on (80, the base image's ASPNETCORE_URLS). The worker serves nothing.
//
// Connections by identity (learn.microsoft.com/azure/azure-functions/functions-reference,
// "Configure an identity-based connection"): NixeryStorage__queueServiceUri + __credential
// managedidentity + __clientId for the trigger and the poison queue's output binding, and
// AzureWebJobsStorage__accountName + __credential + __clientId for the host's own storage.
// Replicas start with an empty Nix store (ephemeral disk, sized by Container Apps from the CPU
// asked for) and fetch from the binary cache; layers already packed are reused from the blob
// storage's layer cache.
param location string
param tags object
param environmentName string
param workerName string
param workspaceName string
param image string
param registryServer string
param identityId string
param identityClientId string
param hostStorageName string
param dataStorageName string
param insightsConnectionString string
param maxWorkers int
param cpu string
param memory string

@description('The app\'s own settings (main.bicep; README: Configuration).')
param appSettings object

// The connection the queue trigger and the poison output binding name (src/Worker/BuildFunction.cs).
var connection = 'NixeryStorage'

// Read by the Functions host and the platform, not by the app (tests/Functions.Tests/Deploy
// lists them).
var hostSettings = {
  '${connection}__queueServiceUri': 'https://${dataStorageName}.queue.${environment().suffixes.storage}'
  '${connection}__credential': 'managedidentity'
  '${connection}__clientId': identityClientId
  AzureWebJobsStorage__accountName: hostStorageName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: insightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // Also the image's; said here as the Functions-on-Container-Apps samples do.
  FUNCTIONS_WORKER_RUNTIME: 'dotnet-isolated'
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource containerEnvironment 'Microsoft.App/managedEnvironments@2025-07-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
  }
}

resource worker 'Microsoft.App/containerApps@2025-07-01' = if (!empty(image)) {
  name: workerName
  location: location
  tags: tags
  kind: 'functionapp'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: containerEnvironment.id
    workloadProfileName: 'Consumption'
    configuration: {
      // One revision at a time: revisions running side by side would share the host storage.
      activeRevisionsMode: 'Single'
      ingress: {
        external: false
        targetPort: 80
        transport: 'auto'
      }
      registries: [
        {
          server: registryServer
          identity: identityId
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'worker'
          image: image
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: [for setting in items(union(appSettings, hostSettings)): { name: setting.key, value: setting.value }]
        }
      ]
      scale: {
        minReplicas: 0
        maxReplicas: maxWorkers
      }
    }
  }
}

output environmentName string = containerEnvironment.name
output workerName string = empty(image) ? '' : worker.name
