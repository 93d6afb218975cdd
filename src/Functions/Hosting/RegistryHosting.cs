// Wires the embedded default into one process (STYLE.md §7): options validated at start-up,
// filesystem storage, the in-process queue and worker, the build coordinator and the
// handlers. The start-up log says what this instance serves, from where.
using Nixery.Builder;
using Nixery.Builder.Nix;
using Nixery.Core;
using Nixery.Core.Names;
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
    /// <summary>Registers everything; returns the start-up error text instead of throwing.</summary>
    public static string? TryAddRegistry(this WebApplicationBuilder builder)
    {
        if (!RegistryOptions.TryFromConfiguration(builder.Configuration, out var options, out var error))
        {
            return error;
        }

        builder.Logging.AddRegistryConsole();
        // Behind Azure Functions the handler must listen where the host calls it; the host is an
        // ASP.NET Core process too, and URL settings meant for it reach us through the environment.
        var customHandler = builder.Configuration["FUNCTIONS_CUSTOMHANDLER_PORT"] is { Length: > 0 };
        if (customHandler || (builder.Configuration["urls"] is null && builder.Configuration["ASPNETCORE_URLS"] is null))
        {
            builder.WebHost.UseUrls($"http://0.0.0.0:{options.Port}");
        }

        var services = builder.Services;
        services.AddRegistryStorage(options);
        services.AddHttpClient();
        services.AddSingleton(sp => new SourceCatalog(
            options.Sources, sp.GetRequiredService<TimeProvider>(), options.RevisionCacheFor, sp.GetRequiredService<IHttpClientFactory>().CreateClient("sources")));
        services.AddSingleton<BuildCoordinator>();
        services.AddSingleton<ManifestHandler>();
        services.AddSingleton<BlobHandler>();
        services.AddSingleton<RecentFailures>();
        services.AddSingleton<LandingPageHandler>();
        services.AddSingleton<FailuresHandler>();
        services.AddBuilder(options);
        return null;
    }

    public static void LogStartup(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<RegistryOptions>();
        var storage = app.Services.GetRequiredService<IStorageBackend>();
        var queue = app.Services.GetRequiredService<IBuildQueue>();
        foreach (var source in app.Services.GetRequiredService<SourceCatalog>().All)
        {
            // A local folder's name comes from its nixery.json; other sources are read by the worker.
            var definition = source.Definition;
            var setName = definition.Kind == SourceKinds.Path ? PackageSetInfo.Load(definition.Location).Name : definition.Kind;
            app.Logger.LogInformation(
                "serving package source {Source} as {SourceName} ({Kind} {Location})",
                setName, definition.Name, definition.Kind, definition.Location);
        }

        app.Logger.LogInformation(
            "storage {Backend} at {StoragePath}; queue {Queue}; {Workers} in-process workers; revisions of moving sources kept {RevisionCache} s; port {Port}",
            storage.Name,
            options.AzureStorage is { } azure ? $"container {azure.Container}" : Path.GetFullPath(options.StoragePath),
            queue.Name, options.Workers, (int)options.RevisionCacheFor.TotalSeconds, options.Port);
    }
}
