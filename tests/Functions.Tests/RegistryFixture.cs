// One registry instance shared by the HTTP tests that do not build images: the real app on
// a loopback port with its own storage folder. No in-process worker and no build wait, so
// a request that does reach the build path answers 429 at once instead of running Nix.
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Nixery.Core.Builds;
using Nixery.Core.Manifests;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests;

public class RegistryFixture : IAsyncLifetime, IRegistryUnderTest
{
    /// <summary>The ten bytes of <see cref="TenBytes"/>.</summary>
    public const string TenBytesText = "0123456789";

    /// <summary>A docker schema-2 manifest, stored as a blob.</summary>
    public const string ManifestJson =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
        + "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":2,"
        + "\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\"},\"layers\":[]}";

    private readonly TempDir _folder = new("nixery-functions-test");

    private RegistryInstance? _instance;

    public RegistryInstance Instance => _instance ?? throw new InvalidOperationException("not started");

    public HttpClient Client => Instance.Client;

    public Uri BaseAddress => Instance.BaseAddress;

    public RegistryStore Store => Instance.Store;

    public BuildLedger Ledger => Instance.Ledger;

    public SourceCatalog Sources => Instance.Services.GetRequiredService<SourceCatalog>();

    public static byte[] TenBytes => Encoding.ASCII.GetBytes(TenBytesText);

    public Digest TenBytesDigest { get; private set; }

    public Digest ManifestDigest { get; private set; }

    public static IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["NIXERY_BUILD_WAIT"] = "0",
        ["NIXERY_WORKERS"] = "0",
    };

    /// <summary>What a derived fixture adds to <see cref="Settings"/> or overrides in it.</summary>
    protected virtual IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>();

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>(Settings);
        foreach (var (key, value) in ExtraSettings)
        {
            settings[key] = value;
        }

        _instance = await RegistryInstance.StartAsync(_folder.Combine("storage"), settings);
        TenBytesDigest = await Instance.Store.PutBlobAsync(TenBytes, MediaTypes.OctetStream, CancellationToken.None);
        ManifestDigest = await Instance.Store.PutBlobAsync(Encoding.UTF8.GetBytes(ManifestJson), MediaTypes.DockerManifest, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_instance is not null)
        {
            await _instance.DisposeAsync();
        }

        _folder.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class RegistryCollection : ICollectionFixture<RegistryFixture>
{
    public const string Name = "registry";
}
