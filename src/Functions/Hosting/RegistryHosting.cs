// Registers the HTTP side (STYLE.md §7): options validated at start-up, storage, the queue
// builds are sent to, the build coordinator and the handlers the functions call. Used by the
// HTTP function app (Program.cs) and by the embedded default (src/Embedded), which adds the
// build side. The start-up log says what this instance serves, from where.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nixery.Core;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.Functions.Builds;
using Nixery.Functions.Registry;
using Nixery.Functions.Web;

namespace Nixery.Functions.Hosting;

public static class RegistryHosting
{
    /// <summary>Registers everything the HTTP functions need; returns the start-up error text
    /// (naming the setting) instead of throwing.</summary>
    public static string? TryAddRegistryHttp(this IHostApplicationBuilder builder, RegistryPart part)
    {
        if (!RegistryOptions.TryFromConfiguration(builder.Configuration, part, out var options, out var error))
        {
            return error;
        }

        var services = builder.Services;
        services.AddRegistryStorage(options);
        services.AddHttpClient();
        services.AddSingleton(sp => new SourceCatalog(
            options.Sources, sp.GetRequiredService<TimeProvider>(), options.RevisionCacheFor, sp.GetRequiredService<IHttpClientFactory>().CreateClient("sources")));
        services.AddSingleton<BuildCoordinator>();
        services.AddSingleton<ManifestHandler>();
        services.AddSingleton<BlobHandler>();
        services.AddSingleton<ReferrersHandler>();
        services.AddSingleton<TagsHandler>();
        services.AddSingleton<CatalogHandler>();
        services.AddSingleton<RecentFailures>();
        services.AddSingleton<LandingPageHandler>();
        services.AddSingleton<FailuresHandler>();
        services.AddTransient<RegistryApi>();
        return null;
    }

    /// <param name="setName">The name a package set gives itself, where this process can read
    /// it (the embedded default reads a local folder's nixery.json; the HTTP app has no Nix).</param>
    public static void LogStartup(this IHost host, Func<SourceDefinition, string>? setName = null, string? extra = null)
    {
        var services = host.Services;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Nixery.Startup");
        var options = services.GetRequiredService<RegistryOptions>();
        var storage = services.GetRequiredService<IStorageBackend>();
        var queue = services.GetRequiredService<IBuildQueue>();
        foreach (var source in services.GetRequiredService<SourceCatalog>().All)
        {
            var definition = source.Definition;
            logger.LogInformation(
                "serving package source {Source} as {SourceName} ({Kind} {Location})",
                setName?.Invoke(definition) ?? definition.Kind, definition.Name, definition.Kind, definition.Location);
        }

        logger.LogInformation(
            "storage {Backend} at {StoragePath}; queue {Queue}; revisions of moving sources kept {RevisionCache} s{Extra}",
            storage.Name,
            options.AzureStorage is { } azure ? $"container {azure.Container}" : Path.GetFullPath(options.StoragePath),
            queue.Name, (int)options.RevisionCacheFor.TotalSeconds, extra ?? "");
    }
}
