// StorageHealth on the real thing (issue 16): the Azure backend pointed at ports where Azurite
// is not running yet, then started there. A worker that waits for the storage probes with
// backoff and logs one line when the storage goes and one when it is back, not a line (or a
// stack trace) per try; the backend, made without a network call, creates its container
// lazily on the probe that succeeds. Lines are awaited as events (LogLines), never timed.
using Azure.Storage.Blobs;
using Nixery.Core.Azure;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Storage;

public sealed class StorageHealthTests
{
    /// <summary>A bound on a wait for an event, not a wait for time to pass.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AWaitForStorageLogsOneLineWhenItIsUnreachableAndOneWhenItIsBack()
    {
        using var folder = new TempDir("nixery-storage-health");
        var (blobPort, queuePort) = Azurite.FreePorts();
        var container = new BlobContainerClient(Azurite.ConnectionStringFor(blobPort, queuePort), "health", StorageCallPolicy.InteractiveBlobs());
        using var backend = AzureBlobStorage.Create(container, TimeSpan.FromMinutes(10));
        var log = new LogLines<StorageHealth>();
        var health = new StorageHealth(backend, log);
        var where = $"container health at http://127.0.0.1:{blobPort}/{Azurite.AccountName}/health";

        Assert.False(await health.CheckAsync(CancellationToken.None));
        Assert.StartsWith($"storage azure-blob at {where} is unreachable: ", await log.NextAsync("storage "), StringComparison.Ordinal);
        Assert.True(health.IsKnownUnreachable);

        var waiting = health.WaitUntilReachableAsync(CancellationToken.None);
        await using var azurite = await Azurite.StartAtAsync(blobPort, queuePort, folder.Combine("azurite"));
        await waiting.WaitAsync(Bound);

        // The next storage line is the one of the state change: the failed probes in between said nothing.
        Assert.Equal($"storage azure-blob at {where} is reachable again", await log.NextAsync("storage "));
        Assert.False(health.IsKnownUnreachable);
        Assert.True((await container.ExistsAsync()).Value);
    }

    [Fact]
    public async Task AnOutageIsRecognisedThroughTheSdksRetriesAndACallersCancellationIsNot()
    {
        var (blobPort, queuePort) = Azurite.FreePorts();
        var container = new BlobContainerClient(Azurite.ConnectionStringFor(blobPort, queuePort), "nothing-listens", StorageCallPolicy.InteractiveBlobs());
        using var backend = AzureBlobStorage.Create(container, TimeSpan.FromMinutes(10));
        var health = new StorageHealth(backend, new LogLines<StorageHealth>());

        var refused = await Record.ExceptionAsync(() => backend.StatAsync("images/x.json", CancellationToken.None));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        Assert.NotNull(refused);
        Assert.True(health.IsOutage(refused, CancellationToken.None), refused.ToString());
        Assert.False(health.IsOutage(new OperationCanceledException(cancelled.Token), cancelled.Token));
        Assert.False(health.IsOutage(new InvalidOperationException("a bug"), CancellationToken.None));
    }
}
