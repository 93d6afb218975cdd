// A real registry process-in-a-test: the same app Program.cs runs, on a free loopback
// port, with its own storage folder and the offline package set. Tests talk to it over
// HTTP or point skopeo/podman/ctr at HostPort. Services can be decorated (e.g. to count
// Nix invocations) through configureServices.
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Nixery.Core.Builds;
using Nixery.Core.Storage;
using Nixery.Embedded;

namespace Nixery.TestSupport;

public sealed class RegistryInstance : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RegistryInstance(WebApplication app, string storagePath, Uri baseAddress)
    {
        _app = app;
        StoragePath = storagePath;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(10) };
    }

    public string StoragePath { get; }

    public Uri BaseAddress { get; }

    /// <summary>host:port, as a registry reference for skopeo, podman and ctr.</summary>
    public string HostPort => $"{BaseAddress.Host}:{BaseAddress.Port}";

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public RegistryStore Store => _app.Services.GetRequiredService<RegistryStore>();

    public BuildLedger Ledger => _app.Services.GetRequiredService<BuildLedger>();

    /// <summary>The settings every test instance gets, storing under <paramref name="storagePath"/>; a test adds or overrides them.</summary>
    public static IReadOnlyDictionary<string, string?> DefaultSettings(string storagePath) => new Dictionary<string, string?>
    {
        ["urls"] = "http://127.0.0.1:0",
        ["STORAGE_PATH"] = storagePath,
        ["NIXERY_PKGS_PATH"] = RepoPaths.PackageSetDir,
        ["NIXERY_NIX_PATH"] = RepoPaths.NixDir,
        ["NIX_TIMEOUT"] = "600",
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
    };

    public static async Task<RegistryInstance> StartAsync(
        string storagePath,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var merged = new Dictionary<string, string?>(DefaultSettings(storagePath));
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }

        var app = EmbeddedApp.Create([], merged, out var error, configureServices)
            ?? throw new InvalidOperationException("registry did not start: " + error);
        await app.StartAsync();
        var address = app.Urls.First();
        return new RegistryInstance(app, storagePath, new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal) + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
