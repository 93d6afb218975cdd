// Registers what every process (the embedded default, the HTTP function app, the build
// function app) shares: the storage backend chosen by configuration, the typed store, the
// build ledger, leases, the build queue its part sends to, build events, the clock and the
// staging sweeper.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nixery.Core.Builds;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Queue.Azure;
using Nixery.Core.Storage;
using Nixery.Core.Storage.Azure;

namespace Nixery.Core;

public static class CoreServiceCollectionExtensions
{
    public static IServiceCollection AddRegistryStorage(this IServiceCollection services, RegistryOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        // Azure clients are created and their container/queues ensured once, at start-up.
        services.AddSingleton<IStorageBackend>(_ => options.AzureStorage is { } blob
            ? AzureBlobStorage.CreateAsync(blob.CreateContainerClient(), blob.SasExpiry, CancellationToken.None).GetAwaiter().GetResult()
            : new FileSystemStorage(options.StoragePath));
        services.AddSingleton<RegistryStore>();
        // The ledger reads the queue's durability where this part sends jobs (none in the build function app).
        services.AddSingleton<BuildLedger>();
        services.AddSingleton<StorageLeases>();
        switch (options.Part)
        {
            case RegistryPart.Embedded:
                services.AddSingleton<InProcessQueue>();
                services.AddSingleton<IBuildQueue>(sp => sp.GetRequiredService<InProcessQueue>());
                break;
            case RegistryPart.HttpFunctions when options.AzureQueue is { } queueOptions:
                services.AddSingleton<IBuildQueue>(_ =>
                {
                    var queue = new AzureStorageQueue(queueOptions.CreateServiceClient(), queueOptions);
                    queue.EnsureCreatedAsync(CancellationToken.None).GetAwaiter().GetResult();
                    return queue;
                });
                break;
            default:
                // The build function app receives jobs through its queue trigger; it sends none.
                break;
        }

        services.AddSingleton<BuildEvents>();
        // Sweep at least as often as an upload may go stale, at most every ten minutes.
        var sweepEvery = options.StagingMaxAge < TimeSpan.FromMinutes(10) ? options.StagingMaxAge : TimeSpan.FromMinutes(10);
        services.AddSingleton(new StagingSweepOptions(options.StagingMaxAge, sweepEvery));
        services.AddHostedService<StagingSweeper>();
        return services;
    }

    /// <summary>One line per event, with a timestamp; framework chatter only from warnings up.</summary>
    public static ILoggingBuilder AddRegistryConsole(this ILoggingBuilder logging)
    {
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.IncludeScopes = false;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        return logging;
    }
}
