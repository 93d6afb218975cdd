// Registers what every process (the embedded default, the HTTP function app, the build
// function app) shares whatever its storage: the typed store over the backend, the build
// ledger, leases, build events, the storage's health, the clock, the staging sweeper, pull records and the garbage collector. The backend itself is
// chosen by the storage settings (src/Core.Azure/StorageRegistration.cs, which calls this).
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Nixery.Core.Builds;
using Nixery.Core.Collection;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Storage;

namespace Nixery.Core;

public static class CoreServiceCollectionExtensions
{
    public static IServiceCollection AddRegistryCore(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<RegistryStore>();
        services.AddSettings<StatusOptions>();
        // The ledger asks the queue this process sends jobs to, if any, whether it outlives the process.
        services.AddSingleton<BuildLedger>();
        services.AddSingleton<StorageLeases>();
        services.AddSingleton<BuildEvents>();
        services.AddSingleton<StorageHealth>();
        // Sweep at least as often as an upload may go stale, at most every ten minutes.
        services.AddSingleton(sp =>
        {
            var maxAge = sp.GetRequiredService<StorageOptions>().StagingMaxAge;
            return new StagingSweepOptions(maxAge, maxAge < TimeSpan.FromMinutes(10) ? maxAge : TimeSpan.FromMinutes(10));
        });
        services.AddSingleton<StagingSweeper>();
        // Pull records (written by the HTTP side) and the collector that reads them (issue 13.4).
        services.AddSettings<CollectionOptions>();
        services.AddSingleton<PullRecorder>();
        services.AddSingleton<GarbageCollector>();
        services.AddHostedService(sp => sp.GetRequiredService<StagingSweeper>());
        return services;
    }
}
