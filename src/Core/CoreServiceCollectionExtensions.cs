// Registers what both hosts (the HTTP app and the standalone worker) share: the storage
// backend and the build queue chosen by configuration, the typed store, build events, the
// clock and the staging sweeper.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Storage;

namespace Nixery.Core;

public static class CoreServiceCollectionExtensions
{
    public static IServiceCollection AddRegistryStorage(this IServiceCollection services, RegistryOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IStorageBackend>(_ => new FileSystemStorage(options.StoragePath));
        services.AddSingleton<RegistryStore>();
        services.AddSingleton<IBuildQueue, InProcessQueue>();
        services.AddSingleton<BuildEvents>();
        services.AddSingleton(new StagingSweepOptions(options.StagingMaxAge, TimeSpan.FromMinutes(10)));
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
