// Logs and telemetry: a Log Analytics workspace (the worker's console output, through its
// Container Apps environment) and Application Insights over it (both Functions hosts and their
// apps' output). Ingestion is what costs: the workspace has a daily cap. Application Insights
// takes Entra-authenticated telemetry only (local auth off), so each app's identity gets
// Monitoring Metrics Publisher on it (APPLICATIONINSIGHTS_AUTHENTICATION_STRING names it).
param location string
param tags object
param workspaceName string
param insightsName string
param dailyQuotaGb int
@description('The identities whose hosts send telemetry.')
param publisherPrincipalIds array

// Built-in role: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/monitor
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
    workspaceCapping: {
      dailyQuotaGb: dailyQuotaGb
    }
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: insightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

resource publishers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in publisherPrincipalIds: {
    scope: insights
    name: guid(insights.id, principalId, monitoringMetricsPublisher)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

output workspaceName string = workspace.name
output insightsConnectionString string = insights.properties.ConnectionString
