// Builds the registry app from arguments and configuration overrides, for Program.cs and
// for the tests, which start real instances on loopback ports with their own settings.
using Nixery.Functions.Registry;

namespace Nixery.Functions.Hosting;

public static class RegistryApp
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

        error = builder.TryAddRegistry();
        if (error is not null)
        {
            return null;
        }

        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapRegistryApi();
        return app;
    }
}
