// A small cloud deployment on one machine: Azurite for Blob Storage and the queue, and the
// registry's HTTP apps and worker hosts as separate processes configured as they are on
// Azure (NIXERY_STORAGE_BACKEND=azure, NIXERY_QUEUE_BACKEND=azure, a connection string).
// Each cluster gets its own container and queue names.
using System.Net;
using System.Net.Sockets;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests;

public sealed class AzureCluster : IAsyncDisposable
{
    private readonly List<ServiceProcess> _processes = [];
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];

    private AzureCluster(Azurite azurite, string packageSet)
    {
        Azurite = azurite;
        PackageSet = packageSet;
    }

    public Azurite Azurite { get; }

    public string PackageSet { get; }

    public string Container => $"nixery-{_suffix}";

    public string QueueName => $"builds-{_suffix}";

    public static async Task<AzureCluster> StartAsync(string? packageSet = null) =>
        new(await Azurite.StartAsync(), packageSet ?? RepoPaths.PackageSetDir);

    public Dictionary<string, string> Settings(IReadOnlyDictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["NIXERY_STORAGE_BACKEND"] = "azure",
            ["NIXERY_QUEUE_BACKEND"] = "azure",
            ["AZURE_STORAGE_CONNECTION_STRING"] = Azurite.ConnectionString,
            ["NIXERY_STORAGE_CONTAINER"] = Container,
            ["NIXERY_QUEUE_NAME"] = QueueName,
            ["NIXERY_PKGS_PATH"] = PackageSet,
            ["NIXERY_NIX_PATH"] = RepoPaths.NixDir,
            ["NIX_TIMEOUT"] = "600",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>An HTTP app with no worker of its own; returns it with its base address.</summary>
    public async Task<(ServiceProcess Process, Uri BaseAddress)> StartHttpAsync(string name, IReadOnlyDictionary<string, string>? extra = null)
    {
        var port = FreePort();
        var settings = Settings(extra);
        settings["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["NIXERY_WORKERS"] = "0";
        var process = Track(ServiceProcess.Start(name, ServiceProcess.AssemblyOf("Functions", "Nixery.Functions.dll"), settings));
        await process.WaitForLineAsync("Now listening on", TimeSpan.FromMinutes(1));
        return (process, new Uri($"http://127.0.0.1:{port}/"));
    }

    public async Task<ServiceProcess> StartWorkerAsync(string name, IReadOnlyDictionary<string, string>? extra = null)
    {
        var process = Track(ServiceProcess.Start(name, ServiceProcess.AssemblyOf("Builder", "Nixery.Builder.dll"), Settings(extra)));
        await process.WaitForLineAsync("worker started", TimeSpan.FromMinutes(1));
        return process;
    }

    /// <summary>Builds started across every worker of the cluster (one log line each).</summary>
    public int NixBuilds => _processes.Sum(p => p.CountLines("preparing image"));

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        await Azurite.DisposeAsync();
    }

    private ServiceProcess Track(ServiceProcess process)
    {
        _processes.Add(process);
        return process;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
