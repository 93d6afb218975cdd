// The contract of IStorageBackend as tests, in the manner of distribution's
// testsuites.Driver: every backend (filesystem here, Azure Blob on Azurite later) subclasses
// this and must pass all of it. Only the interface is used, never the backend's own files,
// so a subclass needs nothing but a factory.
using System.Security.Cryptography;
using System.Text;
using Nixery.Core.Storage;

namespace Nixery.Core.Tests.Storage;

public abstract class StorageConformanceTests : IAsyncLifetime
{
    private IStorageBackend? _backend;

    protected IStorageBackend Backend => _backend ?? throw new InvalidOperationException("backend not created yet");

    /// <summary>True for backends that hand out direct URLs (Azure SAS); false means "stream it yourself".</summary>
    protected abstract bool ServesRedirectUrls { get; }

    /// <summary>A fresh, empty backend for one test.</summary>
    protected abstract Task<IStorageBackend> CreateBackendAsync();

    /// <summary>Removes what <see cref="CreateBackendAsync"/> made.</summary>
    protected abstract Task DestroyBackendAsync();

    public async Task InitializeAsync() => _backend = await CreateBackendAsync();

    public Task DisposeAsync() => DestroyBackendAsync();

    private static CancellationToken Ct => CancellationToken.None;

    private static MemoryStream Text(string text) => new(Encoding.UTF8.GetBytes(text));

    private async Task<string?> ReadTextAsync(string path)
    {
        await using var stream = await Backend.OpenReadAsync(path, Ct);
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(Ct);
    }

    private async Task<List<string>> ListPathsAsync(string prefix)
    {
        var paths = new List<string>();
        await foreach (var (path, _) in Backend.ListAsync(prefix, Ct))
        {
            paths.Add(path);
        }

        return paths;
    }

    [Fact]
    public void BackendHasAName()
    {
        Assert.False(string.IsNullOrWhiteSpace(Backend.Name));
    }

    [Fact]
    public async Task StatOfMissingObjectIsNull()
    {
        Assert.Null(await Backend.StatAsync("blobs/sha256/missing", Ct));
        Assert.Null(await Backend.StatAsync("no-such-folder/deeper/missing", Ct));
    }

    [Fact]
    public async Task OpenOfMissingObjectIsNull()
    {
        Assert.Null(await Backend.OpenReadAsync("blobs/sha256/missing", Ct));
        Assert.Null(await Backend.OpenReadAsync("no-such-folder/deeper/missing", Ct));
    }

    [Fact]
    public async Task WriteThenReadGivesTheSameBytesAndSize()
    {
        await Backend.WriteAsync("images/a.json", Text("{\"x\":1}"), "application/json", Ct);

        Assert.Equal("{\"x\":1}", await ReadTextAsync("images/a.json"));
        var props = await Backend.StatAsync("images/a.json", Ct);
        Assert.NotNull(props);
        Assert.Equal(7, props.Size);
        Assert.False(string.IsNullOrEmpty(props.ETag));
    }

    [Fact]
    public async Task WriteReplacesThePreviousObject()
    {
        await Backend.WriteAsync("images/a.json", Text("first, longer content"), null, Ct);
        await Backend.WriteAsync("images/a.json", Text("second"), null, Ct);

        Assert.Equal("second", await ReadTextAsync("images/a.json"));
        Assert.Equal(6, (await Backend.StatAsync("images/a.json", Ct))!.Size);
    }

    [Fact]
    public async Task WriteOfAnEmptyObjectGivesAnEmptyObject()
    {
        await Backend.WriteAsync("images/empty", new MemoryStream(), null, Ct);

        Assert.Equal("", await ReadTextAsync("images/empty"));
        Assert.Equal(0, (await Backend.StatAsync("images/empty", Ct))!.Size);
    }

    [Fact]
    public async Task TryCreateSucceedsOnceThenRefusesWithoutWriting()
    {
        Assert.True(await Backend.TryCreateAsync("status/k.json", Encoding.UTF8.GetBytes("one"), "application/json", Ct));
        Assert.False(await Backend.TryCreateAsync("status/k.json", Encoding.UTF8.GetBytes("two"), "application/json", Ct));

        Assert.Equal("one", await ReadTextAsync("status/k.json"));
    }

    [Fact]
    public async Task TryCreateFromTwentyConcurrentCallersHasExactlyOneWinner()
    {
        using var start = new ManualResetEventSlim();
        var attempts = Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return (Won: await Backend.TryCreateAsync("status/race.json", Encoding.UTF8.GetBytes($"caller {i:00}"), null, Ct), Caller: i);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(attempts);

        var winners = results.Where(r => r.Won).ToList();
        Assert.Single(winners);
        Assert.Equal($"caller {winners[0].Caller:00}", await ReadTextAsync("status/race.json"));
    }

    [Fact]
    public async Task TryReplaceWithTheCurrentETagReplaces()
    {
        await Backend.WriteAsync("status/k.json", Text("old1"), null, Ct);
        var props = await Backend.StatAsync("status/k.json", Ct);

        Assert.True(await Backend.TryReplaceAsync("status/k.json", Encoding.UTF8.GetBytes("new1"), props!.ETag, null, Ct));
        Assert.Equal("new1", await ReadTextAsync("status/k.json"));
        Assert.NotEqual(props.ETag, (await Backend.StatAsync("status/k.json", Ct))!.ETag);
    }

    [Fact]
    public async Task TryReplaceWithAStaleETagRefuses()
    {
        // Same length on purpose: a status record rewritten with the same size is the usual
        // case, and the ETag must still change.
        await Backend.WriteAsync("status/k.json", Text("aaaa"), null, Ct);
        var stale = (await Backend.StatAsync("status/k.json", Ct))!.ETag;
        await Backend.WriteAsync("status/k.json", Text("bbbb"), null, Ct);

        Assert.False(await Backend.TryReplaceAsync("status/k.json", Encoding.UTF8.GetBytes("cccc"), stale, null, Ct));
        Assert.Equal("bbbb", await ReadTextAsync("status/k.json"));
    }

    [Fact]
    public async Task TryReplaceChangesTheETagEvenForEqualLengthContent()
    {
        await Backend.WriteAsync("status/k.json", Text("aaaa"), null, Ct);
        var first = (await Backend.StatAsync("status/k.json", Ct))!.ETag;

        Assert.True(await Backend.TryReplaceAsync("status/k.json", Encoding.UTF8.GetBytes("bbbb"), first, null, Ct));
        Assert.False(await Backend.TryReplaceAsync("status/k.json", Encoding.UTF8.GetBytes("cccc"), first, null, Ct));
        Assert.Equal("bbbb", await ReadTextAsync("status/k.json"));
    }

    [Fact]
    public async Task TryReplaceOfAMissingObjectRefuses()
    {
        Assert.False(await Backend.TryReplaceAsync("status/none.json", Encoding.UTF8.GetBytes("x"), "\"anything\"", null, Ct));
        Assert.Null(await Backend.StatAsync("status/none.json", Ct));
    }

    [Fact]
    public async Task StagedUploadCommitMovesTheContentAndLeavesNoStagingObject()
    {
        await using (var upload = await Backend.BeginStagedUploadAsync(Ct))
        {
            await upload.Content.WriteAsync(Encoding.UTF8.GetBytes("staged bytes"), Ct);
            await upload.CommitAsync("blobs/sha256/staged", "application/octet-stream", Ct);
        }

        Assert.Equal("staged bytes", await ReadTextAsync("blobs/sha256/staged"));
        Assert.Empty(await ListPathsAsync(StorageLayout.StagingPrefix));
    }

    [Fact]
    public async Task StagedUploadDisposedWithoutCommitLeavesNothing()
    {
        await using (var upload = await Backend.BeginStagedUploadAsync(Ct))
        {
            await upload.Content.WriteAsync(Encoding.UTF8.GetBytes("abandoned"), Ct);
        }

        Assert.Empty(await ListPathsAsync(StorageLayout.StagingPrefix));
        Assert.Empty(await ListPathsAsync("blobs/"));
    }

    [Fact]
    public async Task WriteLeavesNoStagingObject()
    {
        await Backend.WriteAsync("images/a.json", Text("x"), null, Ct);
        Assert.True(await Backend.TryCreateAsync("status/b.json", Encoding.UTF8.GetBytes("y"), null, Ct));

        Assert.Empty(await ListPathsAsync(StorageLayout.StagingPrefix));
    }

    [Fact]
    public async Task LargeStreamedUploadReadsBackWithTheSameSha256()
    {
        const long size = 64L * 1024 * 1024;
        var source = new GeneratedStream(size, seed: 42);
        byte[] expected;
        await using (var upload = await Backend.BeginStagedUploadAsync(Ct))
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 20];
            int read;
            while ((read = await source.ReadAsync(buffer, Ct)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await upload.Content.WriteAsync(buffer.AsMemory(0, read), Ct);
            }

            expected = hash.GetHashAndReset();
            await upload.CommitAsync("blobs/sha256/large", "application/octet-stream", Ct);
        }

        Assert.Equal(size, (await Backend.StatAsync("blobs/sha256/large", Ct))!.Size);
        await using var stream = await Backend.OpenReadAsync("blobs/sha256/large", Ct);
        Assert.NotNull(stream);
        Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, Ct)));
        Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(await SHA256.HashDataAsync(new GeneratedStream(size, seed: 42), Ct)));
    }

    [Fact]
    public async Task LargeWriteFromAGeneratedStreamReadsBackWithTheSameSha256()
    {
        const long size = 64L * 1024 * 1024;
        var expected = await SHA256.HashDataAsync(new GeneratedStream(size, seed: 7), Ct);

        await Backend.WriteAsync("blobs/sha256/written", new GeneratedStream(size, seed: 7), "application/octet-stream", Ct);

        await using var stream = await Backend.OpenReadAsync("blobs/sha256/written", Ct);
        Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(await SHA256.HashDataAsync(stream!, Ct)));
    }

    [Fact]
    public async Task DeleteRemovesTheObject()
    {
        await Backend.WriteAsync("images/a.json", Text("x"), null, Ct);

        await Backend.DeleteAsync("images/a.json", Ct);

        Assert.Null(await Backend.StatAsync("images/a.json", Ct));
        Assert.Null(await Backend.OpenReadAsync("images/a.json", Ct));
    }

    [Fact]
    public async Task DeleteOfAMissingObjectIsFine()
    {
        await Backend.DeleteAsync("images/missing.json", Ct);
        await Backend.DeleteAsync("no-such-folder/deeper/missing.json", Ct);

        Assert.Null(await Backend.StatAsync("images/missing.json", Ct));
    }

    [Fact]
    public async Task TryDeleteWithTheCurrentETagDeletes()
    {
        await Backend.WriteAsync("layers/k.lease", Text("mine"), null, Ct);
        var props = await Backend.StatAsync("layers/k.lease", Ct);

        Assert.True(await Backend.TryDeleteAsync("layers/k.lease", props!.ETag, Ct));
        Assert.Null(await Backend.StatAsync("layers/k.lease", Ct));
    }

    [Fact]
    public async Task TryDeleteWithAStaleETagRefusesAndKeepsTheObject()
    {
        // Same length: a lease renewed or taken over is rewritten with the same size.
        await Backend.WriteAsync("layers/k.lease", Text("aaaa"), null, Ct);
        var stale = (await Backend.StatAsync("layers/k.lease", Ct))!.ETag;
        await Backend.WriteAsync("layers/k.lease", Text("bbbb"), null, Ct);

        Assert.False(await Backend.TryDeleteAsync("layers/k.lease", stale, Ct));
        Assert.Equal("bbbb", await ReadTextAsync("layers/k.lease"));
    }

    [Fact]
    public async Task TryDeleteOfAMissingObjectRefuses()
    {
        Assert.False(await Backend.TryDeleteAsync("layers/none.lease", "\"anything\"", Ct));
    }

    [Fact]
    public async Task ListGivesThePathsUnderThePrefixSortedOrdinally()
    {
        foreach (var path in new[] { "status/b.json", "images/c.json", "images/a.json", "images/B.json", "layers/a.json", "imagesx/z.json" })
        {
            await Backend.WriteAsync(path, Text(path), null, Ct);
        }

        Assert.Equal(["images/B.json", "images/a.json", "images/c.json"], await ListPathsAsync("images/"));
        Assert.Equal(["images/B.json", "images/a.json", "images/c.json", "imagesx/z.json"], await ListPathsAsync("images"));
        Assert.Equal(["images/a.json"], await ListPathsAsync("images/a"));
        Assert.Empty(await ListPathsAsync("nothing/"));
    }

    [Fact]
    public async Task ListGivesModificationTimesNearNow()
    {
        var before = DateTimeOffset.UtcNow.AddMinutes(-5);
        await Backend.WriteAsync("images/a.json", Text("x"), null, Ct);

        var (path, modified) = Assert.Single(await ToListAsync(Backend.ListAsync("images/", Ct)));
        Assert.Equal("images/a.json", path);
        Assert.InRange(modified, before, DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task ListDoesNotShowConditionalWriteBookkeeping()
    {
        Assert.True(await Backend.TryCreateAsync("status/k.json", Encoding.UTF8.GetBytes("x"), null, Ct));

        Assert.Equal(["status/k.json"], await ListPathsAsync("status/"));
    }

    [Fact]
    public async Task RedirectUrlFollowsTheBackendContract()
    {
        await Backend.WriteAsync("blobs/sha256/r", Text("x"), null, Ct);

        var url = await Backend.GetRedirectUrlAsync("blobs/sha256/r", "application/octet-stream", Ct);

        if (ServesRedirectUrls)
        {
            Assert.NotNull(url);
            Assert.True(url.IsAbsoluteUri);
        }
        else
        {
            Assert.Null(url);
        }
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }

    /// <summary>Deterministic pseudo-random bytes of a given length, produced as read, so a
    /// large upload is never held in memory.</summary>
    private sealed class GeneratedStream(long length, int seed) : Stream
    {
        private readonly Random _random = new(seed);
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - _position);
            _random.NextBytes(buffer[..n]);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
