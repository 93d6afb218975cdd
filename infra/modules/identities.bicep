// One user-assigned managed identity per caller, so that each holds only the roles it uses
// (granted next to the resource they cover: storage.bicep, host-storage.bicep,
// registry.bicep, monitoring.bicep):
//   http    the Function app: reads the registry, writes build status, enqueues, signs blob
//           redirects (user-delegation SAS); its Functions host's own storage; telemetry
//   worker  the build worker: writes layers, manifests and status, takes, renews and deletes
//           jobs, moves failed ones to the poison queue; pulls its image from the registry
//   scaler  the worker's KEDA azure-queue rule: reads the build queue's length, nothing else
param location string
param tags object
param httpName string
param workerName string
param scalerName string

resource http 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: httpName
  location: location
  tags: tags
}

resource worker 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: workerName
  location: location
  tags: tags
}

resource scaler 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: scalerName
  location: location
  tags: tags
}

output httpId string = http.id
output httpClientId string = http.properties.clientId
output httpPrincipalId string = http.properties.principalId
output workerId string = worker.id
output workerClientId string = worker.properties.clientId
output workerPrincipalId string = worker.properties.principalId
output scalerId string = scaler.id
output scalerPrincipalId string = scaler.properties.principalId
