// NIXERY_PACK_CONCURRENCY decides how many layers are packed and how many deflate chunks are
// compressed at once, never the bytes: the same image built on fresh storage with one thread
// and with several has the same manifest, config and layer digests. Real Nix on the offline
// package set, filesystem storage in a temp folder.
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
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

namespace Nixery.Builder.Tests.Images;

public sealed class PackConcurrencyTests
{
    [Fact]
    public async Task OneThreadAndFourBuildTheSameDigests()
    {
        using var dir = new TempDir("nixery-pack-concurrency");

        var (serialStore, serialLedger, serial, key) = await BuildAsync(Path.Combine(dir.Path, "one"), concurrency: 1);
        var (parallelStore, _, parallel, _) = await BuildAsync(Path.Combine(dir.Path, "four"), concurrency: 4);

        Assert.Equal(
            serial.StoredVariants().Select(v => $"{v.MediaType} {v.Digest} {v.Size}"),
            parallel.StoredVariants().Select(v => $"{v.MediaType} {v.Digest} {v.Size}"));
        var layers = await LayerDigestsAsync(serialStore, serial);
        Assert.Equal(layers, await LayerDigestsAsync(parallelStore, parallel));
        Assert.True(layers.Count > 10, $"shell/git has {layers.Count} layers");

        // Waiting clients were told the progress; the last record says every layer is ready.
        var status = await serialLedger.GetAsync(key, CancellationToken.None);
        Assert.Equal((BuildState.Building, layers.Count, layers.Count), (status!.State, status.LayersReady, status.LayersTotal));

        // The largest layer is several deflate chunks and still one valid gzip member.
        var largest = layers.MaxBy(l => l.Size);
        Assert.True(largest.Size > 2 * 1024 * 1024, $"largest layer is {largest.Size} bytes");
        var blob = Path.Combine(dir.Path, "four", "blobs", "sha256", largest.Digest.Hex);
        await Nixery.Builder.Tests.Packing.Tools.RunAsync("pigz", "-t", blob);
    }

    private static async Task<(RegistryStore Store, BuildLedger Ledger, ImageRecord Image, string Key)> BuildAsync(string storage, int concurrency)
    {
        var backend = new FileSystemStorage(storage);
        var store = new RegistryStore(backend);
        var ledger = new BuildLedger(backend, new StatusOptions(), TimeProvider.System);
        var nix = new NixClient(new NixOptions { NixExpressionsPath = RepoPaths.NixDir, Timeout = TimeSpan.FromMinutes(5) }, NullLogger<NixClient>.Instance);
        var popularity = new PopularitySource(new PopularityStore(backend), new PopularitySourceOptions(Popularity.Empty, TimeSpan.Zero), TimeProvider.System, NullLogger<PopularitySource>.Instance);
        var options = new ImageBuilderOptions(LayerBudget.Default, TimeSpan.FromMinutes(10), concurrency);
        var layers = new LayerCache(store, new StorageLeases(backend, TimeProvider.System, NullLogger<StorageLease>.Instance), options, TimeProvider.System, NullLogger<LayerCache>.Instance);
        var builder = new ImageBuilder(
            store, layers, ledger, nix, new StableLayerGrouper(), options,
            TimeProvider.System, NullLogger<ImageBuilder>.Instance, popularity,
            new SourceCheckout(new SourceCheckoutOptions(Path.Combine(storage, "sources")), new HttpClient(), NullLogger<SourceCheckout>.Instance),
            new NixPlatforms());
        var request = ImageRequest.FromName("shell/git");
        var source = new PackageSource("path", RepoPaths.PackageSetDir, PathSource.HashTree(RepoPaths.PackageSetDir));
        var job = new BuildJob(BuildJob.CurrentVersion, Guid.NewGuid().ToString("N"), ImageKeys.For(request, source), request, source);
        var outcome = await builder.BuildAsync(job, CancellationToken.None);
        return (store, ledger, Assert.IsType<ImageBuilt>(outcome).Image, job.ImageKey);
    }

    private static async Task<List<(Digest Digest, long Size)>> LayerDigestsAsync(RegistryStore store, ImageRecord image)
    {
        Assert.True(Digest.TryParse(image.Digest, out var digest));
        await using var stream = await store.OpenBlobAsync(digest.Value, CancellationToken.None);
        using var manifest = await JsonDocument.ParseAsync(stream!);
        return [.. manifest.RootElement.GetProperty("layers").EnumerateArray().Select(l =>
            (Digest.TryParse(l.GetProperty("digest").GetString(), out var d) ? d.Value : throw new InvalidDataException(), l.GetProperty("size").GetInt64()))];
    }
}
