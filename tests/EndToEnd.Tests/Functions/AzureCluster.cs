// A small cloud deployment on one machine: Azurite for Blob Storage and the queues, and the
// published HTTP function app and build function app each run by the Functions host
// emulator (tests/FunctionsHost) as the host runs them — separate worker processes speaking
// the host's gRPC protocol, HTTP forwarded to the app's Kestrel, the build queue read by the
// emulator's queue trigger — with the settings they get on Azure (connection strings
// standing in for identities). Each cluster gets its own container and queue names.
using Azure.Storage.Queues;
using Nixery.FunctionsHost;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests.Functions;

public sealed class AzureCluster : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    private readonly List<FunctionsHost.FunctionsHost> _hosts = [];
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];

    private AzureCluster(Azurite azurite, PublishedApps apps, string packageSet)
    {
        Azurite = azurite;
        Apps = apps;
        PackageSet = packageSet;
    }

    public Azurite Azurite { get; }

    public PublishedApps Apps { get; }

    public string PackageSet { get; }

    public string Container => $"nixery-{_suffix}";

    public string QueueName => $"builds-{_suffix}";

    public QueueClient PoisonQueue => new(Azurite.ConnectionString, QueueName + "-poison");

    /// <summary>Azurite and the published apps; the build queue exists from the start, as infra/
    /// creates it (the host's trigger waits for its queue, it does not create it).</summary>
    public static async Task<AzureCluster> StartAsync(string? packageSet = null)
    {
        var apps = await PublishedApps.GetAsync();
        var cluster = new AzureCluster(await Azurite.StartAsync(), apps, packageSet ?? RepoPaths.PackageSetDir);
        await new QueueClient(cluster.Azurite.ConnectionString, cluster.QueueName).CreateIfNotExistsAsync();
        return cluster;
    }

    /// <summary>The app settings of both apps, as infra/ sets them, with connection strings.</summary>
    public Dictionary<string, string> Settings(IReadOnlyDictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = Azurite.ConnectionString,
            ["NixeryStorage"] = Azurite.ConnectionString,
            ["NIXERY_STORAGE_BACKEND"] = "azure",
            ["AZURE_STORAGE_CONNECTION_STRING"] = Azurite.ConnectionString,
            ["NIXERY_STORAGE_CONTAINER"] = Container,
            ["NIXERY_QUEUE_NAME"] = QueueName,
            ["NIXERY_PKGS_PATH"] = PackageSet,
            ["NIX_TIMEOUT"] = "600",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>The HTTP function app under its own host; returns it with its base address.</summary>
    public async Task<(FunctionsHost.FunctionsHost Host, Uri BaseAddress)> StartHttpAsync(string name, IReadOnlyDictionary<string, string>? extra = null)
    {
        var host = Track(await FunctionsHost.FunctionsHost.StartAsync(new FunctionsHostOptions
        {
            Name = name,
            AppDirectory = Apps.FunctionApp,
            AppSettings = Settings(extra),
            StartTimeout = StartTimeout,
        }));
        return (host, host.BaseAddress ?? throw new InvalidOperationException("the HTTP app reported no HTTP function"));
    }

    /// <summary>The build function app under its own host: one more instance on the queue.</summary>
    /// <param name="visibility">How long the host keeps a message it is processing invisible
    /// (renewed at half); the host's is 10 minutes.</param>
    public async Task<FunctionsHost.FunctionsHost> StartWorkerAsync(string name, IReadOnlyDictionary<string, string>? extra = null, TimeSpan? visibility = null) =>
        Track(await FunctionsHost.FunctionsHost.StartAsync(new FunctionsHostOptions
        {
            Name = name,
            AppDirectory = Apps.WorkerApp,
            AppSettings = Settings(extra),
            StartTimeout = StartTimeout,
            QueueVisibility = visibility ?? TimeSpan.FromMinutes(10),
        }));

    /// <summary>Builds started across every worker of the cluster (one log line each).</summary>
    public int NixBuilds => _hosts.Sum(h => h.CountLines("preparing image"));

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        await Azurite.DisposeAsync();
    }

    private FunctionsHost.FunctionsHost Track(FunctionsHost.FunctionsHost host)
    {
        _hosts.Add(host);
        return host;
    }
}
