// RegistryStore on the filesystem backend: content addressing and the image records. The
// build claims are the build ledger's (BuildLedgerTests), layer claims the lease's
// (StorageLeaseTests), both run on every backend.
using System.Text;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Storage;

public sealed class RegistryStoreTests : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly TempDir _folder = new();

    private readonly FileSystemStorage _backend;

    private readonly RegistryStore _store;

    public RegistryStoreTests()
    {
        _backend = new FileSystemStorage(_folder.Path);
        _store = new RegistryStore(_backend);
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task PutBlobStoresUnderItsSha256()
    {
        var content = Encoding.UTF8.GetBytes("hello blob");

        var digest = await _store.PutBlobAsync(content, MediaTypes.OctetStream, Ct);

        Assert.Equal(Digest.Sha256(content), digest);
        Assert.Equal("sha256", digest.Algorithm);
        Assert.Equal(10, (await _store.StatBlobAsync(digest, Ct))!.Size);
        await using var stream = await _store.OpenBlobAsync(digest, Ct);
        using var copy = new MemoryStream();
        await stream!.CopyToAsync(copy, Ct);
        Assert.Equal(content, copy.ToArray());
        Assert.True(File.Exists(Path.Combine(_folder.Path, "blobs", "sha256", digest.Hex)));
    }

    [Fact]
    public async Task PutBlobTwiceIsIdempotent()
    {
        var content = Encoding.UTF8.GetBytes("same bytes");

        var first = await _store.PutBlobAsync(content, MediaTypes.OctetStream, Ct);
        var etag = (await _store.StatBlobAsync(first, Ct))!.ETag;
        var second = await _store.PutBlobAsync(content, MediaTypes.OctetStream, Ct);

        Assert.Equal(first, second);
        Assert.Equal(etag, (await _store.StatBlobAsync(second, Ct))!.ETag);
        Assert.Equal([StorageLayout.Blob(first)], await ListAsync("blobs/"));
    }

    [Fact]
    public async Task PutBlobFromConcurrentCallersGivesOneBlob()
    {
        var content = Encoding.UTF8.GetBytes("raced bytes");

        var digests = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => _store.PutBlobAsync(content, MediaTypes.OctetStream, Ct))));

        Assert.Single(digests.Distinct());
        Assert.Equal([StorageLayout.Blob(digests[0])], await ListAsync("blobs/"));
    }

    [Fact]
    public async Task StatOfAnUnknownBlobIsNull()
    {
        Assert.Null(await _store.StatBlobAsync(Digest.Sha256([1, 2, 3]), Ct));
        Assert.Null(await _store.OpenBlobAsync(Digest.Sha256([1, 2, 3]), Ct));
    }

    [Fact]
    public async Task PutStreamedBlobCommitsUnderTheProducedDigest()
    {
        var content = Encoding.UTF8.GetBytes("streamed");

        var digest = await _store.PutStreamedBlobAsync(
            async stream =>
            {
                await stream.WriteAsync(content, Ct);
                return Digest.Sha256(content);
            },
            d => d,
            MediaTypes.OctetStream,
            Ct);

        Assert.Equal(8, (await _store.StatBlobAsync(digest, Ct))!.Size);
        Assert.Empty(await ListAsync(StorageLayout.StagingPrefix));
    }

    [Fact]
    public async Task PutStreamedBlobWhoseProducerFailsLeavesNothing()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => _store.PutStreamedBlobAsync<Digest>(
            async stream =>
            {
                await stream.WriteAsync(new byte[] { 1, 2, 3 }, Ct);
                throw new InvalidOperationException("producer failed");
            },
            d => d,
            MediaTypes.OctetStream,
            Ct));

        Assert.Empty(await ListAsync(StorageLayout.StagingPrefix));
        Assert.Empty(await ListAsync("blobs/"));
    }

    [Fact]
    public async Task ImageRecordRoundTrips()
    {
        var record = new ImageRecord("sha256:" + new string('a', 64), MediaTypes.DockerManifest, 1234, ["cacert", "hello"]);

        await _store.PutImageAsync("key1", record, Ct);
        var read = await _store.GetImageAsync("key1", Ct);

        Assert.NotNull(read);
        Assert.Equal(record.Digest, read.Digest);
        Assert.Equal(record.MediaType, read.MediaType);
        Assert.Equal(record.Size, read.Size);
        Assert.Equal(record.Packages, read.Packages);
        Assert.Null(await _store.GetImageAsync("key2", Ct));
    }

    [Fact]
    public async Task ImageRecordsAreListedByKeyAndNothingElseUnderImagesIs()
    {
        var record = new ImageRecord("sha256:" + new string('a', 64), MediaTypes.DockerManifest, 1, ["git"]);
        await _store.PutImageAsync("key-b", record, Ct);
        await _store.PutImageAsync("key-a", record, Ct);
        await _backend.WriteAsync("images/notes.txt", new MemoryStream([1]), "text/plain", Ct);

        var keys = new List<string>();
        await foreach (var (key, _) in _store.ListImagesAsync(Ct))
        {
            keys.Add(key);
        }

        Assert.Equal(["key-a", "key-b"], keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void HashKeyIsLowerCaseSha256Hex()
    {
        Assert.Equal("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", Digest.Sha256Hex("hello"));
    }

    private async Task<List<string>> ListAsync(string prefix)
    {
        var paths = new List<string>();
        await foreach (var (path, _) in _backend.ListAsync(prefix, Ct))
        {
            paths.Add(path);
        }

        return paths;
    }
}
