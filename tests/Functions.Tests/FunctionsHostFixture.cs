// The HTTP function app (src/Functions, as built) run by the Functions host emulator as the
// host runs it, for the HTTP tests that also run on the embedded default: requests go through
// the emulator's front, which forwards them to the worker's Kestrel over the host's protocol.
// Storage is a filesystem folder the test process reads and writes too; the build queue is
// on a private Azurite, as the HTTP function app always sends jobs to an Azure Storage queue.
// No build function app runs: a miss answers 429 at once (NIXERY_BUILD_WAIT 0), as in the
// embedded fixture without a worker.
using System.Text;
using Azure.Storage.Queues;
using Nixery.Core.Builds;
using Nixery.Core.Manifests;
using Nixery.Core.Options;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.FunctionsHost;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests;

public class FunctionsHostFixture : IAsyncLifetime, IRegistryUnderTest
{
    private readonly TempDir _folder = new("nixery-functions-host-test");
    private Azurite? _azurite;
    private FunctionsHost.FunctionsHost? _host;
    private HttpClient? _client;
    private RegistryStore? _store;
    private BuildLedger? _ledger;
    private SourceCatalog? _sources;

    public FunctionsHost.FunctionsHost Host => _host ?? throw new InvalidOperationException("not started");

    public HttpClient Client => _client ?? throw new InvalidOperationException("not started");

    public Uri BaseAddress => Host.BaseAddress!;

    public RegistryStore Store => _store ?? throw new InvalidOperationException("not started");

    public BuildLedger Ledger => _ledger ?? throw new InvalidOperationException("not started");

    public SourceCatalog Sources => _sources ?? throw new InvalidOperationException("not started");

    public Digest TenBytesDigest { get; private set; }

    public Digest ManifestDigest { get; private set; }

    /// <summary>The build output of src/Functions, in the tests' configuration.</summary>
    public static string AppDirectory => Path.GetDirectoryName(ServiceProcess.AssemblyOf("Functions", "Nixery.Functions.dll"))!;

    /// <summary>Settings a derived fixture adds (authentication on, Auth/AuthFixtures.cs).</summary>
    protected virtual IReadOnlyDictionary<string, string> ExtraSettings { get; } = new Dictionary<string, string>();

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync();
        var storage = _folder.Combine("storage");
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = _azurite.ConnectionString,
            ["STORAGE_PATH"] = storage,
            ["AZURE_STORAGE_CONNECTION_STRING"] = _azurite.ConnectionString,
            ["NIXERY_QUEUE_NAME"] = "builds",
            ["NIXERY_PKGS_PATH"] = RepoPaths.PackageSetDir,
            ["NIXERY_BUILD_WAIT"] = "0",
        };
        foreach (var (key, value) in ExtraSettings)
        {
            settings[key] = value;
        }

        await new QueueClient(_azurite.ConnectionString, "builds").CreateIfNotExistsAsync();
        _host = await FunctionsHost.FunctionsHost.StartAsync(new FunctionsHostOptions
        {
            Name = "http",
            AppDirectory = AppDirectory,
            AppSettings = settings,
        });
        _client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        _store = new RegistryStore(new FileSystemStorage(storage));
        _ledger = new BuildLedger(new FileSystemStorage(storage), new StatusOptions(), TimeProvider.System);
        _sources = new SourceCatalog([new SourceDefinition("default", SourceKinds.Path, RepoPaths.PackageSetDir)], TimeProvider.System, TimeSpan.FromSeconds(60), new HttpClient());
        TenBytesDigest = await Store.PutBlobAsync(RegistryFixture.TenBytes, MediaTypes.OctetStream, CancellationToken.None);
        ManifestDigest = await Store.PutBlobAsync(Encoding.UTF8.GetBytes(RegistryFixture.ManifestJson), MediaTypes.DockerManifest, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }

        _folder.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class FunctionsHostCollection : ICollectionFixture<FunctionsHostFixture>
{
    public const string Name = "the HTTP function app under the host emulator";
}
