// One user-assigned managed identity per caller, so that each holds only the roles it uses
// (granted next to the resource they cover: storage.bicep, host-storage.bicep,
// registry.bicep, monitoring.bicep):
//   http    the HTTP function app: reads the registry, writes build status, enqueues, signs
//           blob redirects (user-delegation SAS); its Functions host's own storage; telemetry
//   worker  the build function app: writes layers, manifests and status; its queue trigger
//           takes and deletes jobs and its output binding writes the poison queue (the
//           connection NixeryStorage); the platform's scaler reads the queue length through
//           the same connection; its Functions host's own storage; its image pull; telemetry
// There is no third identity for scaling: Functions on Container Apps derives the scale rule
// from the queue trigger and its connection (worker.bicep).
param location string
param tags object
param httpName string
param workerName string

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

output httpId string = http.id
output httpClientId string = http.properties.clientId
output httpPrincipalId string = http.properties.principalId
output workerId string = worker.id
output workerClientId string = worker.properties.clientId
output workerPrincipalId string = worker.properties.principalId
