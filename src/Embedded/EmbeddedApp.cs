// Builds the embedded default from arguments and configuration overrides, for Program.cs and
// for the tests, which start real instances on loopback ports with their own settings: the
// HTTP side of src/Functions, the build of src/Builder with its in-process queue and worker
// (after a start-up sweep of what a dead earlier process left: StartupSweep), and the HTTP functions mapped on this app's own Kestrel (FunctionRoutes). A wrong setting
// stops it before it listens, with one sentence per setting (Settings.Check).
using Nixery.Builder;
using Nixery.Builder.Nix;
using Nixery.Core.Azure;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Sources;
using Nixery.Functions.Auth;
using Nixery.Functions.Hosting;
using Nixery.Functions.Registry;

namespace Nixery.Embedded;

public static class EmbeddedApp
{
    /// <summary>The configured app, or null with the start-up error that names the setting.</summary>
    public static WebApplication? Create(
        string[] args,
        IReadOnlyDictionary<string, string?>? overrides,
        out string? error,
        Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.Configuration.Normalise();
        // One process checks the tokens it issues, so a key it makes up serves (AuthOptions).
        if (builder.Configuration[AuthOptions.ModeKey] == AuthOptions.Token && builder.Configuration[AuthOptions.TokenKeyKey] is null)
        {
            builder.Configuration.AddInMemoryCollection([new(AuthOptions.TokenKeyKey, RegistryTokens.NewKey())]);
        }

        var config = builder.Configuration;
        error = Settings.Problems(config, [.. RegistryHosting.SettingTypes(config), .. BuilderServiceCollectionExtensions.SettingTypes, typeof(EmbeddedOptions)]);
        if (error is not null)
        {
            return null;
        }

        var embedded = Settings.Bind<EmbeddedOptions>(config);
        if (config["urls"] is null && config["ASPNETCORE_URLS"] is null)
        {
            builder.WebHost.UseUrls($"http://0.0.0.0:{embedded.Port}");
        }

        builder.Logging.AddRegistryConsole();
        var services = builder.Services;
        services.AddSettings<EmbeddedOptions>();
        services.AddRegistryHttp(config);
        services.AddSingleton<InProcessQueue>();
        services.AddSingleton<IBuildQueue>(sp => sp.GetRequiredService<InProcessQueue>());
        services.AddBuilder();
        // Before the worker: what a dead earlier process left is swept before the first build.
        services.AddHostedService<StartupSweep>();
        services.AddInProcessWorker(embedded.Workers, embedded.MaxDequeueCount);
        services.AddRegistryTelemetry(config, "nixery-embedded");
        // Every NIXERY_GC_INTERVAL when NIXERY_RETENTION is set (the Azure HTTP app has a timer function).
        services.AddHostedService<GarbageCollection>();
        configureServices?.Invoke(services);
        var app = builder.Build();
        app.MapHttpFunctions<RegistryApi>();
        return app;
    }

    public static void LogStartup(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<EmbeddedOptions>();
        // A local folder's name comes from its nixery.json; other sources are read by the worker.
        app.LogStartup(
            definition => definition.Kind == SourceKinds.Path ? PackageSetInfo.Load(definition.Location).Name : definition.Kind,
            $"; {options.Workers} in-process workers; port {options.Port}");
    }

    /// <summary>One line per event, with a timestamp; framework chatter only from warnings up.</summary>
    private static ILoggingBuilder AddRegistryConsole(this ILoggingBuilder logging)
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
