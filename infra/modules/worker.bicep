// The build worker on Azure Container Apps: the image deploy/worker.Containerfile describes
// (dotnet Nixery.Builder.dll beside single-user Nix), scaled by the build queue's length
// with KEDA's azure-queue scaler, from zero replicas while nothing is queued up to
// maxWorkers. The environment exists from the first deployment on; the worker app only once
// there is an image for it (scripts/deploy builds the image into the registry in between).
//
// No ingress: the worker serves nothing, it takes jobs from the queue. Each replica builds
// one image at a time (NIXERY_WORKERS=1), so the rule's target is one message per replica.
// Replicas start with an empty Nix store (ephemeral disk, sized by Container Apps from the
// CPU asked for) and fetch from the binary cache; layers already packed are reused from the
// blob storage's layer cache.
param location string
param tags object
param environmentName string
param workerName string
param workspaceName string
param image string
param registryServer string
param workerIdentityId string
param workerIdentityClientId string
param scalerIdentityId string
param storageAccountName string
param queueName string
param maxWorkers int
param cpu string
param memory string

@description('The registry settings shared with the HTTP app (main.bicep).')
param registrySettings object

var workerSettings = {
  AZURE_CLIENT_ID: workerIdentityClientId
  NIXERY_WORKERS: '1'
  NIX_TIMEOUT: '1800'
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource environment 'Microsoft.App/managedEnvironments@2025-01-01' = {
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

resource worker 'Microsoft.App/containerApps@2025-01-01' = if (!empty(image)) {
  name: workerName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${workerIdentityId}': {}
      '${scalerIdentityId}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      registries: [
        {
          server: registryServer
          identity: workerIdentityId
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
          env: [for setting in items(union(registrySettings, workerSettings)): { name: setting.key, value: setting.value }]
        }
      ]
      scale: {
        minReplicas: 0
        maxReplicas: maxWorkers
        rules: [
          {
            name: 'build-queue'
            // KEDA azure-queue scaler (https://keda.sh/docs/latest/scalers/azure-storage-queue/),
            // signed in with the scaler identity (the rule's `identity`, Microsoft.App
            // 2025-01-01), so it needs no connection string. Its default queueLengthStrategy,
            // 'all', counts invisible messages too: a job being built keeps its replica.
            custom: {
              type: 'azure-queue'
              metadata: {
                accountName: storageAccountName
                queueName: queueName
                queueLength: '1'
              }
              identity: scalerIdentityId
            }
          }
        ]
      }
    }
  }
}

output environmentName string = environment.name
output workerName string = empty(image) ? '' : worker.name
