// Where the registry's telemetry (Core/Telemetry/RegistryTelemetry.cs) goes, decided by the
// standard settings and nothing of our own:
//
//   APPLICATIONINSIGHTS_CONNECTION_STRING   Azure Monitor (Application Insights): traces and metrics
//   OTEL_EXPORTER_OTLP_ENDPOINT (or the     OTLP, configured by the OTEL_* variables the
//   _TRACES_/_METRICS_ ones)                exporter reads itself (protocol, headers …)
//   neither                                 nothing: no provider is built, so no listener
//                                           subscribes and the instruments cost nothing
//
// Both may be set. The Functions apps add the worker's own integration (the invocation's span,
// parented by the host's: Microsoft.Azure.Functions.Worker.OpenTelemetry) through
// <c>hostDefaults</c>; the embedded default adds nothing. Tests pass their in-memory exporters
// as <c>exporters</c>, which turns the providers on as a setting would.
using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Nixery.Core.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Nixery.Core.Azure;

public static class TelemetryRegistration
{
    public const string AzureMonitorKey = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>"Authorization=AAD" (with "ClientId=…" for a user-assigned identity): ingestion
    /// with Entra ID instead of the connection string's key, as infra/ deploys it (the
    /// resource has local authentication off). The Functions host reads the same setting.</summary>
    public const string AzureMonitorAuthenticationKey = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    private static readonly string[] OtlpKeys = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"];

    /// <summary>The standard settings this reads (not NIXERY_* options: their names are
    /// OpenTelemetry's and Azure Monitor's), for the README's settings table.</summary>
    public static IReadOnlyList<string> SettingKeys => [AzureMonitorKey, AzureMonitorAuthenticationKey, OtlpKeys[0]];

    /// <summary>Where telemetry is exported, for the start-up line: "azure-monitor", "otlp", both, or "none".</summary>
    public static string Destinations(IConfiguration config)
    {
        List<string> found = [];
        if (!string.IsNullOrWhiteSpace(config[AzureMonitorKey]))
        {
            found.Add("azure-monitor");
        }

        if (OtlpKeys.Any(k => !string.IsNullOrWhiteSpace(config[k])))
        {
            found.Add("otlp");
        }

        return found.Count == 0 ? "none" : string.Join('+', found);
    }

    /// <summary>The identity that ingests into Application Insights when the authentication
    /// string asks for Entra ID; null for the connection string's key.</summary>
    private static TokenCredential? EntraCredential(string? authentication)
    {
        if (string.IsNullOrWhiteSpace(authentication))
        {
            return null;
        }

        var parts = authentication.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var mode) || !mode.Equals("AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return parts.TryGetValue("ClientId", out var clientId) && clientId.Length > 0
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new DefaultAzureCredential();
    }

    /// <summary>Traces of the "Nixery" source and ASP.NET Core's requests, and the "Nixery"
    /// meter, exported where the settings say; nothing at all when they say nowhere.</summary>
    /// <param name="serviceName">service.name of the resource: which app this is.</param>
    /// <param name="hostDefaults">What the host adds when telemetry is on (the Functions worker's integration).</param>
    /// <param name="exporters">More exporters (tests); turns telemetry on.</param>
    public static IServiceCollection AddRegistryTelemetry(
        this IServiceCollection services,
        IConfiguration config,
        string serviceName,
        Action<OpenTelemetryBuilder>? hostDefaults = null,
        Action<OpenTelemetryBuilder>? exporters = null)
    {
        var destinations = Destinations(config);
        if (destinations == "none" && exporters is null)
        {
            return services;
        }

        var builder = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            // "Microsoft.AspNetCore": the framework's own request spans (ASP.NET Core 8 and
            // later start them from this ActivitySource when it has a listener).
            .WithTracing(t => t.AddSource(RegistryTelemetry.Name, "Microsoft.AspNetCore"))
            .WithMetrics(m => m.AddMeter(RegistryTelemetry.Name));
        hostDefaults?.Invoke(builder);
        if (destinations.Contains("azure-monitor", StringComparison.Ordinal))
        {
            var connection = config[AzureMonitorKey];
            var credential = EntraCredential(config[AzureMonitorAuthenticationKey]);
            builder.WithTracing(t => t.AddAzureMonitorTraceExporter(o => (o.ConnectionString, o.Credential) = (connection, credential)))
                .WithMetrics(m => m.AddAzureMonitorMetricExporter(o => (o.ConnectionString, o.Credential) = (connection, credential)));
        }

        if (destinations.Contains("otlp", StringComparison.Ordinal))
        {
            // The exporter reads OTEL_EXPORTER_OTLP_* itself, as every OpenTelemetry SDK does.
            builder.WithTracing(t => t.AddOtlpExporter()).WithMetrics(m => m.AddOtlpExporter());
        }

        exporters?.Invoke(builder);
        return services;
    }
}
