// Nixery on Azure in one resource group: `docker pull <namePrefix>.azurewebsites.net/shell/git`.
//
//   identities         one user-assigned managed identity per app, each granted only what it uses
//   storage            the registry's data: blob container, build queue, poison queue (no shared keys)
//   hostStorage        the HTTP app's Functions host storage and its package container (no shared keys)
//   workerHostStorage  the worker's Functions host storage (no shared keys)
//   monitoring         Log Analytics workspace and Application Insights
//   registry           Azure Container Registry holding the worker image
//   functionApp        the HTTP function app on Flex Consumption, .NET isolated worker (dotnet-isolated 10.0)
//   worker             Container Apps environment, and the build function app on it (Functions on
//                      Container Apps), scaled 0..maxWorkers from its queue trigger by the platform
//
// scripts/deploy deploys it twice: without workerImage (everything but the worker app; the
// registry now exists to build the image in), then with the image it built. Every name
// derives from namePrefix, so a dry run (`bicep snapshot`) knows them all in advance.
targetScope = 'resourceGroup'

@description('Names every resource. The registry is <namePrefix>.azurewebsites.net, so the prefix must be globally unique: 3 to 18 lower-case letters, digits and hyphens, starting with a letter.')
@minLength(3)
@maxLength(18)
param namePrefix string

@description('The Azure region; it must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('NIXERY_CHANNEL: the nixpkgs channel images are built from (e.g. nixos-24.05), or a nixpkgs tarball URL.')
param packageSource string = 'nixos-24.05'

@description('NIXERY_PKGS_REPO: a nixpkgs git repository URL to build from instead of packageSource (optional).')
param packageRepo string = ''

@description('Most worker replicas at once (the worker app\'s maxReplicas); each builds one image at a time.')
@minValue(1)
@maxValue(30)
param maxWorkers int = 3

@description('The worker image, <registry>.azurecr.io/nixery-worker:<tag>. Empty deploys everything but the worker app.')
param workerImage string = ''

@description('vCPUs per worker replica (Container Apps consumption: 0.25 to 4, with memory at 2 GiB per vCPU).')
param workerCpu string = '2.0'

@description('Memory per worker replica, e.g. 4Gi.')
param workerMemory string = '4Gi'

@description('Most instances of the HTTP app (Flex Consumption: 40 to 1000).')
@minValue(40)
@maxValue(1000)
param maxHttpInstances int = 40

@description('Memory per HTTP app instance in MB (Flex Consumption: 512, 2048 or 4096).')
@allowed([512, 2048, 4096])
param httpInstanceMemoryMB int = 2048

@description('Daily Log Analytics ingestion cap in GB; ingestion is the monitoring cost.')
@minValue(1)
param logDailyQuotaGb int = 1

var prefixAlnum = replace(namePrefix, '-', '')
var names = {
  httpIdentity: '${namePrefix}-http-id'
  workerIdentity: '${namePrefix}-worker-id'
  dataStorage: '${prefixAlnum}data'
  hostStorage: '${prefixAlnum}host'
  // 18 + 5 characters: storage account names have 24 at most.
  workerHostStorage: '${prefixAlnum}whost'
  logAnalytics: '${namePrefix}-logs'
  insights: '${namePrefix}-insights'
  containerRegistry: '${prefixAlnum}acr'
  functionPlan: '${namePrefix}-plan'
  functionApp: namePrefix
  containerEnvironment: '${namePrefix}-env'
  worker: '${namePrefix}-worker'
}
var tags = {
  application: 'nixery'
  'nixery-prefix': namePrefix
}

// The names the app uses when their settings are left unset (src/Core: AzureStorageOptions,
// AzureQueueOptions); set explicitly below all the same, so the deployment says them.
var blobContainerName = 'nixery'
var queueName = 'nixery-builds'
var poisonQueueName = '${queueName}-poison'
var deploymentContainerName = 'function-package'

// The apps' own settings (README: Configuration); each app gets only those it reads (the
// options classes its Program.cs checks at start-up). The worker reads no package source: each
// build job names the source and revision it was resolved against.
var registrySettings = {
  NIXERY_STORAGE_BACKEND: 'azure'
  AZURE_STORAGE_BLOB_URL: 'https://${names.dataStorage}.blob.${environment().suffixes.storage}'
  NIXERY_STORAGE_CONTAINER: blobContainerName
  // The HTTP app sends to this queue; the worker's queue trigger reads it (%NIXERY_QUEUE_NAME%).
  NIXERY_QUEUE_NAME: queueName
}
var packageSettings = empty(packageRepo) ? { NIXERY_CHANNEL: packageSource } : { NIXERY_PKGS_REPO: packageRepo }
var httpSettings = union(registrySettings, packageSettings, {
  // The HTTP app enqueues with its own client; the worker's queue comes through its trigger.
  AZURE_STORAGE_QUEUE_URL: 'https://${names.dataStorage}.queue.${environment().suffixes.storage}'
  AZURE_CLIENT_ID: identities.outputs.httpClientId
  // Behind the Functions host every request comes from the host itself; the last address of
  // X-Forwarded-For is the one the host was reached from (src/Functions/Builds/ClientKey.cs).
  NIXERY_TRUST_FORWARDED_FOR: 'on'
})
var workerSettings = union(registrySettings, {
  AZURE_CLIENT_ID: identities.outputs.workerClientId
  // A large build's Nix step; host.json's functionTimeout (2 h) bounds the whole build.
  NIX_TIMEOUT: '1800'
})

module identities 'modules/identities.bicep' = {
  name: 'identities'
  params: {
    location: location
    tags: tags
    httpName: names.httpIdentity
    workerName: names.workerIdentity
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: tags
    accountName: names.dataStorage
    containerName: blobContainerName
    queueName: queueName
    poisonQueueName: poisonQueueName
    httpPrincipalId: identities.outputs.httpPrincipalId
    workerPrincipalId: identities.outputs.workerPrincipalId
  }
}

module hostStorage 'modules/host-storage.bicep' = {
  name: 'host-storage'
  params: {
    location: location
    tags: tags
    accountName: names.hostStorage
    deploymentContainerName: deploymentContainerName
    principalId: identities.outputs.httpPrincipalId
  }
}

module workerHostStorage 'modules/host-storage.bicep' = {
  name: 'worker-host-storage'
  params: {
    location: location
    tags: tags
    accountName: names.workerHostStorage
    principalId: identities.outputs.workerPrincipalId
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    workspaceName: names.logAnalytics
    insightsName: names.insights
    dailyQuotaGb: logDailyQuotaGb
    publisherPrincipalIds: [
      identities.outputs.httpPrincipalId
      identities.outputs.workerPrincipalId
    ]
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    location: location
    tags: tags
    name: names.containerRegistry
    workerPrincipalId: identities.outputs.workerPrincipalId
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'function-app'
  params: {
    location: location
    tags: tags
    name: names.functionApp
    planName: names.functionPlan
    identityId: identities.outputs.httpId
    identityClientId: identities.outputs.httpClientId
    hostStorageName: hostStorage.outputs.name
    deploymentContainerName: deploymentContainerName
    insightsConnectionString: monitoring.outputs.insightsConnectionString
    maxInstances: maxHttpInstances
    instanceMemoryMB: httpInstanceMemoryMB
    appSettings: httpSettings
  }
  dependsOn: [
    storage
  ]
}

module worker 'modules/worker.bicep' = {
  name: 'worker'
  params: {
    location: location
    tags: tags
    environmentName: names.containerEnvironment
    workerName: names.worker
    workspaceName: monitoring.outputs.workspaceName
    image: workerImage
    registryServer: registry.outputs.loginServer
    identityId: identities.outputs.workerId
    identityClientId: identities.outputs.workerClientId
    hostStorageName: workerHostStorage.outputs.name
    dataStorageName: storage.outputs.name
    insightsConnectionString: monitoring.outputs.insightsConnectionString
    maxWorkers: maxWorkers
    cpu: workerCpu
    memory: workerMemory
    appSettings: workerSettings
  }
}

@description('The registry: docker pull <registryHost>/shell/git')
output registryHost string = functionApp.outputs.defaultHostName
output functionAppName string = functionApp.outputs.name
output containerRegistryName string = registry.outputs.name
output containerRegistryServer string = registry.outputs.loginServer
output workerName string = worker.outputs.workerName
