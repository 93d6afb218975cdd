// Builds the embedded default from arguments and configuration overrides, for Program.cs and
// for the tests, which start real instances on loopback ports with their own settings: the
// HTTP side of src/Functions, the build of src/Builder with its in-process worker, and the
// HTTP functions mapped on this app's own Kestrel (FunctionRoutes).
using Nixery.Builder;
using Nixery.Builder.Nix;
using Nixery.Core;
using Nixery.Core.Options;
using Nixery.Core.Sources;
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

        error = builder.TryAddRegistryHttp(RegistryPart.Embedded);
        if (error is not null)
        {
            return null;
        }

        builder.Logging.AddRegistryConsole();
        var options = RegistryOptions.FromConfiguration(builder.Configuration, RegistryPart.Embedded);
        if (builder.Configuration["urls"] is null && builder.Configuration["ASPNETCORE_URLS"] is null)
        {
            builder.WebHost.UseUrls($"http://0.0.0.0:{options.Port}");
        }

        builder.Services.AddBuilder(options);
        builder.Services.AddInProcessWorker(options);
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapHttpFunctions<RegistryApi>();
        return app;
    }

    public static void LogStartup(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<RegistryOptions>();
        // A local folder's name comes from its nixery.json; other sources are read by the worker.
        app.LogStartup(
            definition => definition.Kind == SourceKinds.Path ? PackageSetInfo.Load(definition.Location).Name : definition.Kind,
            $"; {options.Workers} in-process workers; port {options.Port}");
    }
}
