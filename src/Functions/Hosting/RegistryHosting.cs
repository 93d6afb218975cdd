// Registers the HTTP side (STYLE.md §7): its settings, storage, the source catalog, the
// build coordinator and the handlers the functions call. Used by the HTTP function app
// (Program.cs, which adds the Azure queue it sends builds to) and by the embedded default
// (src/Embedded, which adds the in-process queue and the build side). The start-up log says
// what this instance serves, from where.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Nixery.Core.Azure;
using Nixery.Core.Collection;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.Functions.Auth;
using Nixery.Functions.Builds;
using Nixery.Functions.Registry;
using Nixery.Functions.Web;

namespace Nixery.Functions.Hosting;

public static class RegistryHosting
{
    /// <summary>The options classes the HTTP side reads (its storage's among them), for Settings.Check.</summary>
    public static IReadOnlyList<Type> SettingTypes(IConfiguration config) =>
        [.. StorageRegistration.StorageSettings(config), typeof(SourceOptions), typeof(StatusOptions), typeof(BuildWaitOptions), typeof(AuthOptions), typeof(LimitOptions), typeof(CollectionOptions)];

    /// <summary>Registers everything the HTTP functions need but the build queue.</summary>
    public static IServiceCollection AddRegistryHttp(this IServiceCollection services, IConfiguration config)
    {
        services.AddRegistryStorage(config);
        services.AddSettings<SourceOptions>();
        services.AddSettings<BuildWaitOptions>();
        services.AddSettings<AuthOptions>();
        services.AddSettings<LimitOptions>();
        services.AddSingleton(sp => new RegistryUsers(RegistryUsers.Load(sp.GetRequiredService<AuthOptions>(), []), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<RegistryTokens>();
        services.AddSingleton<RegistryAuth>();
        services.AddSingleton<TokenHandler>();
        services.AddHttpClient();
        services.AddSingleton(sp =>
        {
            var sources = sp.GetRequiredService<SourceOptions>();
            return new SourceCatalog(sources.Sources, sp.GetRequiredService<TimeProvider>(), sources.RevisionCacheFor, sp.GetRequiredService<IHttpClientFactory>().CreateClient("sources"));
        });
        services.AddSingleton<PackageIndexCache>();
        services.AddSingleton<BuildAdmission>();
        services.AddSingleton<BuildCoordinator>();
        services.AddSingleton<ManifestHandler>();
        services.AddSingleton<BlobHandler>();
        services.AddSingleton<ReferrersHandler>();
        services.AddSingleton<TagsHandler>();
        services.AddSingleton<CatalogHandler>();
        services.AddSingleton<RecentFailures>();
        services.AddSingleton<LandingPageHandler>();
        services.AddSingleton<FailuresHandler>();
        services.AddSingleton<BuildBoard>();
        services.AddSingleton<BuiltImages>();
        services.AddSingleton<ImagePageHandler>();
        services.AddSingleton<BuildEventsHandler>();
        services.AddTransient<RegistryApi>();
        return services;
    }

    /// <param name="setName">The name a package set gives itself, where this process can read
    /// it (the embedded default reads a local folder's nixery.json; the HTTP app has no Nix).</param>
    public static void LogStartup(this IHost host, Func<SourceDefinition, string>? setName = null, string? extra = null)
    {
        var services = host.Services;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Nixery.Startup");
        var storage = services.GetRequiredService<IStorageBackend>();
        var sources = services.GetRequiredService<SourceOptions>();
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
            storage.Location,
            queue.Name, sources.RevisionCacheSeconds, extra ?? "");
        var auth = services.GetRequiredService<AuthOptions>();
        logger.LogInformation(
            "authentication {AuthMode}; {Users} users; anonymous pull {AnonymousPull}",
            auth.Mode, services.GetRequiredService<RegistryUsers>().Count, auth.AllowsAnonymousPull ? "allowed" : "refused");
        logger.LogInformation("telemetry exported to {Telemetry}", TelemetryRegistration.Destinations(services.GetRequiredService<IConfiguration>()));
    }
}
