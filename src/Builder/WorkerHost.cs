// The standalone worker: the process that runs in the container with Nix (and, in tests,
// beside the HTTP app on the same storage). It consumes the build queue with NIXERY_WORKERS
// builds at once, sweeps stale staging uploads, and stops cleanly on SIGTERM: the build in
// hand is cancelled and its job handed back to the queue for another worker.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nixery.Core;
using Nixery.Core.Options;

namespace Nixery.Builder;

public static class WorkerHost
{
    /// <summary>The configured worker host, or null with the start-up error naming the setting.</summary>
    public static IHost? Create(string[] args, out string? error)
    {
        var builder = Host.CreateApplicationBuilder(args);
        if (!RegistryOptions.TryFromConfiguration(builder.Configuration, out var options, out error))
        {
            return null;
        }

        if (options.Workers == 0)
        {
            error = "invalid configuration:\n  NIXERY_WORKERS is 0; a worker host must run at least one build at once (1 to 64).";
            return null;
        }

        builder.Logging.AddRegistryConsole();
        builder.Services.AddRegistryStorage(options);
        builder.Services.AddBuilder(options);
        error = null;
        return builder.Build();
    }
}
