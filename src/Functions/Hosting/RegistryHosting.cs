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

namespace Nixery.Functions.Hosting;

public static class RegistryHosting
{
    /// <summary>How long a package source's revision is trusted before it is read again.</summary>
    private static readonly TimeSpan SourceRevisionCache = TimeSpan.FromSeconds(30);

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

        var packageSet = PackageSetInfo.Load(options.PackageSetPath!);
        var services = builder.Services;
        services.AddRegistryStorage(options);
        services.AddSingleton(packageSet);
        services.AddSingleton(new MetaPackages(packageSet.Shell, packageSet.AlwaysInclude));
        services.AddSingleton(sp => new PathSource(options.PackageSetPath!, sp.GetRequiredService<TimeProvider>(), SourceRevisionCache));
        services.AddSingleton<BuildCoordinator>();
        services.AddSingleton<ManifestHandler>();
        services.AddSingleton<BlobHandler>();
        services.AddBuilder(options);
        return null;
    }

    public static void LogStartup(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<RegistryOptions>();
        var set = app.Services.GetRequiredService<PackageSetInfo>();
        var source = app.Services.GetRequiredService<PathSource>().Resolve();
        var storage = app.Services.GetRequiredService<IStorageBackend>();
        var queue = app.Services.GetRequiredService<IBuildQueue>();
        app.Logger.LogInformation(
            "serving package source {Source} ({Kind} {Location}, revision {Revision}, {System}); storage {Backend} at {StoragePath}; queue {Queue}; {Workers} in-process workers; port {Port}",
            set.Name, source.Kind, source.Location, source.Revision, set.System, storage.Name,
            options.AzureStorage is { } azure ? $"container {azure.Container}" : Path.GetFullPath(options.StoragePath),
            queue.Name, options.Workers, options.Port);
    }
}
