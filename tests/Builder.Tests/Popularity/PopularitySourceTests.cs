// The choice of popularity data (PopularitySource) and the learned-popularity write, against
// filesystem storage in a temp folder. No Nix here: these are the storage rules only (the
// real builds are in ImageBuilderPopularityTests).
using Microsoft.Extensions.Time.Testing;
using Nixery.Builder.Layers;
using Nixery.Builder.PopularityData;
using Nixery.Builder.Tests.Nix;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Builder.Tests.PopularityData;

public sealed class PopularitySourceTests
{
    private const string Lib = "/nix/store/00000000000000000000000000000000-libfoo-1";

    [Fact]
    public async Task UrlThenComputedThenLearnedThenNothing()
    {
        using var dir = new TempDir("nixery-popsrc");
        var store = new RegistryStore(new FileSystemStorage(dir.Path));
        var fromStorage = Source(store, null, TimeSpan.Zero);
        var fromUrl = Source(store, new Popularity(new Dictionary<string, int> { ["libfoo-1"] = 7 }), TimeSpan.Zero);

        Assert.Equal("none", (await fromStorage.GetAsync(CancellationToken.None)).Origin);

        await fromStorage.RecordImageAsync([Lib], CancellationToken.None);
        var learned = await fromStorage.GetAsync(CancellationToken.None);
        Assert.Equal(("learned", 1), (learned.Origin, learned.Data.Of(Lib)));

        await store.PutComputedPopularityAsync(PopularityCounter.ToJson(new Dictionary<string, int> { ["libfoo-1"] = 300 }), CancellationToken.None);
        var computed = await fromStorage.GetAsync(CancellationToken.None);
        Assert.Equal(("computed", 300), (computed.Origin, computed.Data.Of(Lib)));

        var url = await fromUrl.GetAsync(CancellationToken.None);
        Assert.Equal(("NIX_POPULARITY_URL", 7), (url.Origin, url.Data.Of(Lib)));
    }

    [Fact]
    public async Task StorageIsReadAgainOnlyAfterTheCacheTime()
    {
        using var dir = new TempDir("nixery-popsrc");
        var store = new RegistryStore(new FileSystemStorage(dir.Path));
        var time = new FakeTimeProvider();
        var source = new PopularitySource(store, new PopularitySourceOptions(null, TimeSpan.FromMinutes(1)), time, new ListLogger<PopularitySource>());

        Assert.Equal("none", (await source.GetAsync(CancellationToken.None)).Origin);
        await store.PutComputedPopularityAsync(PopularityCounter.ToJson(new Dictionary<string, int> { ["libfoo-1"] = 300 }), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("none", (await source.GetAsync(CancellationToken.None)).Origin);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("computed", (await source.GetAsync(CancellationToken.None)).Origin);
    }

    [Fact]
    public async Task EachImageCountsANameOnce()
    {
        using var dir = new TempDir("nixery-popsrc");
        var store = new RegistryStore(new FileSystemStorage(dir.Path));
        var source = Source(store, null, TimeSpan.Zero);
        var other = "/nix/store/11111111111111111111111111111111-libfoo-1";

        await source.RecordImageAsync([Lib, other, "/nix/store/22222222222222222222222222222222-bar-2"], CancellationToken.None);
        await source.RecordImageAsync([Lib], CancellationToken.None);

        var counts = PopularityCounter.ReadJson((await store.GetLearnedPopularityAsync(CancellationToken.None))!.Value.Json);
        Assert.Equal(new SortedDictionary<string, int>(StringComparer.Ordinal) { ["bar-2"] = 1, ["libfoo-1"] = 2 }, counts);
    }

    [Fact]
    public async Task ConflictsAreRetriedAndALostUpdateIsLogged()
    {
        using var dir = new TempDir("nixery-popsrc");
        var backend = new ConflictingStorage(new FileSystemStorage(dir.Path));
        var store = new RegistryStore(backend);
        var logger = new ListLogger<PopularitySource>();
        var source = new PopularitySource(store, new PopularitySourceOptions(null, TimeSpan.Zero) { LearnedWriteAttempts = 3 }, TimeProvider.System, logger);

        // Another writer changes learned.json between every read and write of this one: one
        // conflict is absorbed by the retry ...
        await source.RecordImageAsync([Lib], CancellationToken.None);
        backend.Conflicts = 1;
        await source.RecordImageAsync([Lib], CancellationToken.None);
        var counts = PopularityCounter.ReadJson((await store.GetLearnedPopularityAsync(CancellationToken.None))!.Value.Json);
        Assert.Equal(2 + 1, counts["libfoo-1"]);
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains("update lost", StringComparison.Ordinal));

        // ... but when every attempt conflicts, the update is dropped and says so.
        backend.Conflicts = int.MaxValue;
        await source.RecordImageAsync([Lib], CancellationToken.None);
        Assert.Equal(1 + 3, backend.Replaces);
        Assert.Single(logger.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("update lost", StringComparison.Ordinal));
    }

    private static PopularitySource Source(RegistryStore store, Popularity? configured, TimeSpan cacheFor) =>
        new(store, new PopularitySourceOptions(configured, cacheFor), TimeProvider.System, new ListLogger<PopularitySource>());

    /// <summary>Simulates a concurrent writer: before each conditional replace (while Conflicts
    /// lasts) it bumps libfoo-1 itself, so the caller's ETag is stale and its replace fails.</summary>
    private sealed class ConflictingStorage(IStorageBackend inner) : IStorageBackend
    {
        public int Conflicts { get; set; }

        public int Replaces { get; private set; }

        public string Name => inner.Name;

        public Task<BlobProperties?> StatAsync(string path, CancellationToken cancellationToken) => inner.StatAsync(path, cancellationToken);

        public Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken) => inner.OpenReadAsync(path, cancellationToken);

        public Task WriteAsync(string path, Stream content, string? contentType, CancellationToken cancellationToken) => inner.WriteAsync(path, content, contentType, cancellationToken);

        public Task<bool> TryCreateAsync(string path, ReadOnlyMemory<byte> content, string? contentType, CancellationToken cancellationToken) =>
            inner.TryCreateAsync(path, content, contentType, cancellationToken);

        public async Task<bool> TryReplaceAsync(string path, ReadOnlyMemory<byte> content, string expectedETag, string? contentType, CancellationToken cancellationToken)
        {
            if (Conflicts > 0)
            {
                Conflicts--;
                Replaces++;
                await using (var current = await inner.OpenReadAsync(path, cancellationToken))
                {
                    var counts = PopularityCounter.ReadJson(await new StreamReader(current!).ReadToEndAsync(cancellationToken));
                    counts["libfoo-1"]++;
                    await inner.WriteAsync(path, new MemoryStream(PopularityCounter.ToJson(counts)), contentType, cancellationToken);
                }
            }

            return await inner.TryReplaceAsync(path, content, expectedETag, contentType, cancellationToken);
        }

        public Task<IStagedUpload> BeginStagedUploadAsync(CancellationToken cancellationToken) => inner.BeginStagedUploadAsync(cancellationToken);

        public Task DeleteAsync(string path, CancellationToken cancellationToken) => inner.DeleteAsync(path, cancellationToken);

        public IAsyncEnumerable<(string Path, DateTimeOffset Modified)> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

        public Task<Uri?> GetRedirectUrlAsync(string path, string contentType, CancellationToken cancellationToken) => inner.GetRedirectUrlAsync(path, contentType, cancellationToken);
    }
}
