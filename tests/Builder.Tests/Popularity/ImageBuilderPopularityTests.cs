// Popularity in real builds: ImageBuilder with the real NixClient on the offline package set
// and filesystem storage in a temp folder. Shows that the layer split depends on the data
// (a library only git uses gets a layer of its own once it is popular) and that the registry
// learns popularity from the images it builds.
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Nixery.Builder.Images;
using Nixery.Builder.Layers;
using Nixery.Builder.Nix;
using Nixery.Builder.PopularityData;
using Nixery.Builder.Sources;
using Nixery.Builder.Tests.Nix;
using Nixery.Core.Builds;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Builder.Tests.PopularityData;

public sealed class ImageBuilderPopularityTests
{
    // Large enough that no layer is merged away: the split itself is what is compared.
    private const int LayerBudget = 100;

    [Fact]
    public async Task APopularLibraryOnlyGitUsesGetsItsOwnLayer()
    {
        // libexpat1 is a library only git refers to in git's closure (libpcre2 is referred to by
        // libselinux too; liberror-perl would pull perl out with it), and it refers only to libc6.
        // Without data every path of git's closure is dominated by git and travels in git's layer.
        using var plainDir = new TempDir("nixery-pop-plain");
        var plain = new Harness(plainDir.Path, new PopularitySourceOptions(Popularity.Empty, TimeSpan.Zero));
        var plainImage = await plain.BuildAsync("git");
        var graph = plain.Grouper.Graphs.Single();
        var git = graph.Paths.Single(p => StorePaths.Name(p.Path).StartsWith("git-1", StringComparison.Ordinal)).Path;
        var expat = graph.Paths.Single(p => StorePaths.Name(p.Path).StartsWith("libexpat1-", StringComparison.Ordinal)).Path;
        Assert.Equal([git], graph.Paths.Where(p => p.References.Contains(expat) && p.Path != expat).Select(p => p.Path));
        var plainGroups = plain.Grouper.Results.Single();
        var withGit = Assert.Single(plainGroups, g => g.Contents.Contains(git));
        Assert.Contains(expat, withGit.Contents);

        // The same image with popularity data (stored as computed.json) saying libexpat1 is popular.
        using var popularDir = new TempDir("nixery-pop-popular");
        var popular = new Harness(popularDir.Path, new PopularitySourceOptions(null, TimeSpan.Zero));
        await popular.Popularity.PutComputedAsync(
            PopularityCounter.ToJson(new Dictionary<string, int> { [StorePaths.Name(expat)] = NixeryLayerGrouper.PopularityThreshold }), CancellationToken.None);
        var popularImage = await popular.BuildAsync("git");
        var popularGroups = popular.Grouper.Results.Single();

        Assert.Equal([expat], Assert.Single(popularGroups, g => g.Contents.Contains(expat)).Contents);
        Assert.DoesNotContain(expat, Assert.Single(popularGroups, g => g.Contents.Contains(git)).Contents);
        // Popular libexpat1 hangs off the root now, so libc6 (referred to by git and by libexpat1)
        // is no longer dominated by git either: it leaves git's layer too, with what only it uses.
        var libc = graph.Paths.Single(p => StorePaths.Name(p.Path).StartsWith("libc6", StringComparison.Ordinal)).Path;
        Assert.Contains(libc, withGit.Contents);
        var libcLayer = Assert.Single(popularGroups, g => g.Contents.Contains(libc));
        Assert.DoesNotContain(git, libcLayer.Contents);
        Assert.Equal(plainGroups.Count + 2, popularGroups.Count);
        // Nothing else moved: the git layer lost exactly what the two new layers hold.
        Assert.Equal(
            withGit.Contents.Except([.. libcLayer.Contents, expat]).Order(StringComparer.Ordinal),
            Assert.Single(popularGroups, g => g.Contents.Contains(git)).Contents);

        // The manifests say so too (each has the symlink layer besides the groups).
        Assert.Equal(plainGroups.Count + 1, await ManifestLayerCountAsync(plain.Store, plainImage));
        Assert.Equal(popularGroups.Count + 1, await ManifestLayerCountAsync(popular.Store, popularImage));
        Assert.Contains(popular.Logger.Entries, e => e.Values.TryGetValue("Popularity", out var origin) && Equals(origin, "computed"));
        Assert.Contains(plain.Logger.Entries, e => e.Values.TryGetValue("Popularity", out var origin) && Equals(origin, "NIX_POPULARITY_URL"));
    }

    [Fact]
    public async Task LearnedPopularityCountsEachBuiltImageOnceAndIsUsedWithoutOtherData()
    {
        using var dir = new TempDir("nixery-pop-learned");
        var harness = new Harness(dir.Path, new PopularitySourceOptions(null, TimeSpan.Zero));

        await harness.BuildAsync("git");
        Assert.NotNull(await harness.Popularity.GetLearnedAsync(CancellationToken.None));
        await harness.BuildAsync("bash");

        var names = harness.Grouper.Graphs
            .Select(g => g.Paths.Select(p => StorePaths.Name(p.Path)).ToHashSet(StringComparer.Ordinal))
            .ToList();
        Assert.Equal(2, names.Count);
        var expected = names.SelectMany(n => n).Distinct(StringComparer.Ordinal)
            .ToDictionary(n => n, n => names.Count(set => set.Contains(n)), StringComparer.Ordinal);
        var learned = (await harness.Popularity.GetLearnedAsync(CancellationToken.None))!;
        var counts = PopularityCounter.ReadJson(learned.Json);
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), counts);
        Assert.Equal(2, counts.Single(c => c.Key.StartsWith("libc6", StringComparison.Ordinal)).Value);
        Assert.Equal(1, counts.Single(c => c.Key.StartsWith("git-1", StringComparison.Ordinal)).Value);

        // No URL, no computed.json: the first build had nothing, the second used what the first taught.
        var origins = harness.Logger.Entries.Where(e => e.Values.ContainsKey("Popularity")).Select(e => e.Values["Popularity"]).ToList();
        Assert.Equal(["none", "learned"], origins);
    }

    private static async Task<int> ManifestLayerCountAsync(RegistryStore store, ImageRecord image)
    {
        Assert.True(Digest.TryParse(image.Digest, out var digest));
        await using var stream = await store.OpenBlobAsync(digest.Value, CancellationToken.None);
        using var manifest = await JsonDocument.ParseAsync(stream!);
        return manifest.RootElement.GetProperty("layers").GetArrayLength();
    }

    /// <summary>Passes grouping through to Nixery's grouper and keeps what it saw and returned.</summary>
    private sealed class RecordingGrouper : ILayerGrouper
    {
        private readonly NixeryLayerGrouper inner = new();

        public List<RuntimeGraph> Graphs { get; } = [];

        public List<IReadOnlyList<LayerGroup>> Results { get; } = [];

        public string Name => inner.Name;

        public IReadOnlyList<LayerGroup> Group(RuntimeGraph graph, IReadOnlyList<string> topLevel, Popularity popularity, int budget)
        {
            var groups = inner.Group(graph, topLevel, popularity, budget);
            Graphs.Add(graph);
            Results.Add(groups);
            return groups;
        }
    }

    private sealed class Harness
    {
        public Harness(string storage, PopularitySourceOptions popularity)
        {
            var backend = new FileSystemStorage(storage);
            Store = new RegistryStore(backend);
            Popularity = new PopularityStore(backend);
            var nix = new NixClient(new NixOptions { NixExpressionsPath = RepoPaths.NixDir, Timeout = TimeSpan.FromMinutes(5) }, NullLogger<NixClient>.Instance);
            var source = new PopularitySource(Popularity, popularity, TimeProvider.System, NullLogger<PopularitySource>.Instance);
            var options = new ImageBuilderOptions(LayerBudget, TimeSpan.FromMinutes(10));
            var layers = new LayerCache(Store, new StorageLeases(backend, TimeProvider.System, NullLogger<StorageLease>.Instance), options, TimeProvider.System, NullLogger<LayerCache>.Instance);
            Builder = new ImageBuilder(Store, layers, new BuildLedger(backend, new StatusOptions(), TimeProvider.System), nix, Grouper, options, TimeProvider.System, Logger, source,
                new SourceCheckout(new SourceCheckoutOptions(Path.Combine(storage, "sources")), new HttpClient(), NullLogger<SourceCheckout>.Instance),
                new NixPlatforms());
        }

        public RegistryStore Store { get; }

        public PopularityStore Popularity { get; }

        public RecordingGrouper Grouper { get; } = new();

        public ListLogger<ImageBuilder> Logger { get; } = new();

        private ImageBuilder Builder { get; }

        public async Task<ImageRecord> BuildAsync(string name)
        {
            var request = ImageRequest.FromName(name);
            var source = new PackageSource("path", RepoPaths.PackageSetDir, PathSource.HashTree(RepoPaths.PackageSetDir));
            var job = new BuildJob(BuildJob.CurrentVersion, Guid.NewGuid().ToString("N"), ImageKeys.For(request, source), request, source);
            var outcome = await Builder.BuildAsync(job, CancellationToken.None);
            return Assert.IsType<ImageBuilt>(outcome).Image;
        }
    }
}
