// The storage round trips a build makes per layer (issue 16, point 5), held to a budget: a
// real Nix build of shell/git from the offline package set on empty storage (cold), then of
// shell/git/curl on the same storage (warm: most layers reused), through CountingStorage. The
// counts depend only on the image and what storage holds, not on timing: the clock is a
// FakeTimeProvider that does not move, so the status is written when packing starts and when
// the last layer is ready, and no lease is renewed. What each layer costs, and why it is
// needed, is written up at the top of src/Builder/Images/LayerCache.cs; the figures before
// this budget (7 calls per cold layer, 12.7 HTTP requests on Azure) are in the README.
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nixery.Builder.Images;
using Nixery.Builder.Layers;
using Nixery.Builder.Nix;
using Nixery.Builder.PopularityData;
using Nixery.Builder.Sources;
using Nixery.Core.Builds;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.TestSupport;
using Xunit.Abstractions;

namespace Nixery.Builder.Tests.Images;

public sealed class LayerCallBudgetTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new("nixery-layer-calls");
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task AColdLayerCostsFiveStorageCallsAndAReusedOneTwo()
    {
        var storage = new CountingStorage(new FileSystemStorage(_dir.Path));

        var cold = await BuildAsync(storage, "shell/git");
        var n = cold.Layers;
        Assert.True(n > 10, $"shell/git has {n} layers");
        // Per layer: read the record (absent), create the lease, upload, write the record,
        // delete the lease. Nothing is checked before it is created.
        Assert.Equal(
            new Dictionary<(string, string), int>
            {
                [("read", "layers")] = n,
                [("write", "layers")] = n,
                [("create", "leases")] = n,
                [("delete", "leases")] = n,
                [("upload", "blobs")] = n,
            },
            PerLayer(cold.Calls));
        Assert.Equal(2, storage.In("status"));
        var total = cold.Calls.Values.Sum();
        // No existence check before a write of the image's own blobs and records either (the
        // popularity store's read-modify-write is its own, PopularityStore).
        Assert.Equal(0, cold.Calls.Where(c => c.Key.Kind == "stat" && c.Key.Area != "popularity").Sum(c => c.Value));
        output.WriteLine($"cold shell/git, {n} layers, {total} calls:\n{storage.Describe()}");
        // The image's own records (config, two manifests, SBOM and its artifacts, referrers,
        // catalog, image entry, popularity) are a fixed few, whatever the layer count.
        Assert.True(total <= (5 * n) + 20, $"{total} calls for {n} layers:\n{storage.Describe()}");

        storage.Reset();
        var warm = await BuildAsync(storage, "shell/git/curl");
        var reused = warm.Layers - (warm.Calls.GetValueOrDefault(("upload", "blobs")));
        Assert.True(reused > n / 2, $"{reused} of {warm.Layers} layers reused:\n{storage.Describe()}");
        var packed = warm.Layers - reused;
        // A reused layer: read its record, stat the blob it names; the others as above.
        Assert.Equal(
            new Dictionary<(string, string), int>
            {
                [("read", "layers")] = warm.Layers,
                [("stat", "blobs")] = reused,
                [("write", "layers")] = packed,
                [("create", "leases")] = packed,
                [("delete", "leases")] = packed,
                [("upload", "blobs")] = packed,
            },
            PerLayer(warm.Calls));
        output.WriteLine($"warm shell/git/curl, {warm.Layers} layers ({reused} reused), {warm.Calls.Values.Sum()} calls:\n{storage.Describe()}");
    }

    /// <summary>The calls a layer makes: those on layer records, leases, and layer blobs
    /// (uploads and stats; the image's small blobs are creates).</summary>
    private static Dictionary<(string, string), int> PerLayer(IReadOnlyDictionary<(string Kind, string Area), int> calls) =>
        calls.Where(c => c.Key.Area is "layers" or "leases" || (c.Key.Area == "blobs" && c.Key.Kind is "upload" or "stat"))
            .ToDictionary(c => (c.Key.Kind, c.Key.Area), c => c.Value);

    private async Task<(int Layers, IReadOnlyDictionary<(string Kind, string Area), int> Calls)> BuildAsync(CountingStorage backend, string name)
    {
        var store = new RegistryStore(backend);
        var nix = new NixClient(new NixOptions { NixExpressionsPath = RepoPaths.NixDir, Timeout = TimeSpan.FromMinutes(5) }, NullLogger<NixClient>.Instance);
        var popularity = new PopularitySource(new PopularityStore(backend), new PopularitySourceOptions(Popularity.Empty, TimeSpan.Zero), _clock, NullLogger<PopularitySource>.Instance);
        var options = new ImageBuilderOptions(LayerBudget.Default, TimeSpan.FromMinutes(10), PackConcurrency: 2);
        using var layers = new LayerCache(store, new StorageLeases(backend, _clock, NullLogger<StorageLease>.Instance), options, _clock, NullLogger<LayerCache>.Instance);
        var builder = new ImageBuilder(
            store, layers, new BuildLedger(backend, new StatusOptions(), _clock), nix, new StableLayerGrouper(), options,
            _clock, NullLogger<ImageBuilder>.Instance, popularity,
            new SourceCheckout(new SourceCheckoutOptions(Path.Combine(_dir.Path, "sources")), new HttpClient(), NullLogger<SourceCheckout>.Instance),
            new NixPlatforms());
        var request = ImageRequest.FromName(name);
        var source = new PackageSource("path", RepoPaths.PackageSetDir, PathSource.HashTree(RepoPaths.PackageSetDir));
        var job = new BuildJob(BuildJob.CurrentVersion, Guid.NewGuid().ToString("N"), ImageKeys.For(request, source), request, source);
        var built = Assert.IsType<ImageBuilt>(await builder.BuildAsync(job, CancellationToken.None));
        var calls = backend.Calls;

        // The layer count from the manifest, read past the counter.
        Assert.True(Digest.TryParse(built.Image.Digest, out var digest));
        await using var manifest = await new RegistryStore(new FileSystemStorage(_dir.Path)).OpenBlobAsync(digest.Value, CancellationToken.None);
        using var document = await JsonDocument.ParseAsync(manifest!);
        return (document.RootElement.GetProperty("layers").GetArrayLength(), calls);
    }
}
