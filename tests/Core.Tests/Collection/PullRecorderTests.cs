// Pull records (src/Core/Collection/PullRecorder.cs): at most one write per image an hour, by
// this instance's memo and by the stored record another instance wrote; a failed write is
// logged and tried again by a later pull, never thrown at the pull. Writes are counted by a
// backend that passes everything on to a real filesystem storage.
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Collection;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Collection;

public sealed class PullRecorderTests : IDisposable
{
    private const string Key = "0123456789abcdef";

    private readonly TempDir _folder = new("nixery-pulls");

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero));

    private readonly CountingBackend _backend;

    public PullRecorderTests() => _backend = new CountingBackend(new FileSystemStorage(_folder.Combine("storage")));

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ManyPullsWithinAnHourWriteOnceAndAPullAnHourLaterWritesAgain()
    {
        var recorder = new PullRecorder(new RegistryStore(_backend), _clock, NullLogger<PullRecorder>.Instance);

        for (var i = 0; i < 20; i++)
        {
            recorder.RecordImage(Key, "git/shell");
            _clock.Advance(TimeSpan.FromMinutes(2));
        }

        await recorder.FlushAsync();
        Assert.Equal(1, _backend.Writes);
        var first = _clock.GetUtcNow() - TimeSpan.FromMinutes(40);
        Assert.Equal(new PullRecord(first, "git/shell"), await new RegistryStore(_backend).GetPullAsync(StorageLayout.Pull(Key), CancellationToken.None));

        _clock.Advance(TimeSpan.FromMinutes(20));
        recorder.RecordImage(Key, "git/shell");
        await recorder.FlushAsync();
        Assert.Equal(2, _backend.Writes);
        Assert.Equal(new PullRecord(_clock.GetUtcNow(), "git/shell"), await new RegistryStore(_backend).GetPullAsync(StorageLayout.Pull(Key), CancellationToken.None));
    }

    [Fact]
    public async Task AnotherInstanceReadsTheStoredRecordAndDoesNotWriteItAgainWithinTheHour()
    {
        var one = new PullRecorder(new RegistryStore(_backend), _clock, NullLogger<PullRecorder>.Instance);
        var two = new PullRecorder(new RegistryStore(_backend), _clock, NullLogger<PullRecorder>.Instance);

        one.RecordImage(Key, "git/shell");
        await one.FlushAsync();
        _clock.Advance(TimeSpan.FromMinutes(30));
        two.RecordImage(Key, "git/shell");
        await two.FlushAsync();

        Assert.Equal(1, _backend.Writes);
    }

    [Fact]
    public async Task AFailedWriteIsLoggedNotThrownAndTheNextPullWritesIt()
    {
        var log = new LogLines<PullRecorder>();
        var digest = Digest.Sha256(Encoding.UTF8.GetBytes("a manifest"));
        var recorder = new PullRecorder(new RegistryStore(_backend), _clock, log);
        _backend.Fail = true;

        recorder.RecordManifest(digest);
        await recorder.FlushAsync();
        Assert.StartsWith($"could not record a pull in {StorageLayout.ManifestPull(digest)}: ", await log.NextAsync("could not record"), StringComparison.Ordinal);

        _backend.Fail = false;
        recorder.RecordManifest(digest);
        await recorder.FlushAsync();
        Assert.Equal(new PullRecord(_clock.GetUtcNow()), await new RegistryStore(_backend).GetPullAsync(StorageLayout.ManifestPull(digest), CancellationToken.None));
    }

    /// <summary>Counts whole-object writes; fails every call while Fail is set.</summary>
    private sealed class CountingBackend(IStorageBackend inner) : IStorageBackend
    {
        private int _writes;

        public int Writes => _writes;

        public volatile bool Fail;

        public string Name => inner.Name;

        public Task<BlobProperties?> StatAsync(string path, CancellationToken cancellationToken) => Check<BlobProperties?>() ?? inner.StatAsync(path, cancellationToken);

        public Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken) => Check<Stream?>() ?? inner.OpenReadAsync(path, cancellationToken);

        public Task WriteAsync(string path, Stream content, string? contentType, CancellationToken cancellationToken)
        {
            if (Fail)
            {
                throw new IOException("storage is down");
            }

            Interlocked.Increment(ref _writes);
            return inner.WriteAsync(path, content, contentType, cancellationToken);
        }

        public Task<bool> TryCreateAsync(string path, ReadOnlyMemory<byte> content, string? contentType, CancellationToken cancellationToken) =>
            inner.TryCreateAsync(path, content, contentType, cancellationToken);

        public Task<bool> TryReplaceAsync(string path, ReadOnlyMemory<byte> content, string expectedETag, string? contentType, CancellationToken cancellationToken) =>
            inner.TryReplaceAsync(path, content, expectedETag, contentType, cancellationToken);

        public Task<IStagedUpload> BeginStagedUploadAsync(CancellationToken cancellationToken) => inner.BeginStagedUploadAsync(cancellationToken);

        public Task DeleteAsync(string path, CancellationToken cancellationToken) => inner.DeleteAsync(path, cancellationToken);

        public Task<bool> TryDeleteAsync(string path, string expectedETag, CancellationToken cancellationToken) => inner.TryDeleteAsync(path, expectedETag, cancellationToken);

        public IAsyncEnumerable<(string Path, DateTimeOffset Modified)> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

        public Task<Uri?> GetRedirectUrlAsync(string path, string contentType, CancellationToken cancellationToken) => inner.GetRedirectUrlAsync(path, contentType, cancellationToken);

        private Task<T>? Check<T>() => Fail ? Task.FromException<T>(new IOException("storage is down")) : null;
    }
}
