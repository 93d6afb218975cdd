// The embedded default's queue: FIFO, and an abandoned job comes back counted.
using Nixery.Core.Names;
using Nixery.Core.Queue;
using Nixery.Core.Sources;

namespace Nixery.Core.Tests.Queue;

public sealed class InProcessQueueTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static BuildJob Job(string id) => new(
        BuildJob.CurrentVersion,
        id,
        "key-" + id,
        new ImageRequest("hello", ["cacert", "hello", "iana-etc"], Architecture.Amd64),
        new PackageSource("path", "/pkgs", "rev-1"));

    [Fact]
    public void InProcessQueueIsNamedInProcess()
    {
        Assert.Equal("in-process", new InProcessQueue().Name);
    }

    [Fact]
    public async Task JobsAreReceivedInTheOrderTheyWereEnqueued()
    {
        var queue = new InProcessQueue();
        await queue.EnqueueAsync(Job("a"), Ct);
        await queue.EnqueueAsync(Job("b"), Ct);
        await queue.EnqueueAsync(Job("c"), Ct);

        var first = await queue.ReceiveAsync(Ct);
        var second = await queue.ReceiveAsync(Ct);
        var third = await queue.ReceiveAsync(Ct);

        Assert.Equal(["a", "b", "c"], new[] { first.Job.JobId, second.Job.JobId, third.Job.JobId });
        Assert.Equal([1, 1, 1], new[] { first.DequeueCount, second.DequeueCount, third.DequeueCount });
    }

    [Fact]
    public async Task AbandonedJobComesBackWithItsDequeueCountIncremented()
    {
        var queue = new InProcessQueue();
        var job = Job("a");
        await queue.EnqueueAsync(job, Ct);

        var lease = await queue.ReceiveAsync(Ct);
        await lease.AbandonAsync();
        var again = await queue.ReceiveAsync(Ct);
        await again.AbandonAsync();
        var third = await queue.ReceiveAsync(Ct);

        Assert.Same(job, again.Job);
        Assert.Equal(1, lease.DequeueCount);
        Assert.Equal(2, again.DequeueCount);
        Assert.Equal(3, third.DequeueCount);
    }

    [Fact]
    public async Task AbandonedJobGoesBehindJobsAlreadyWaiting()
    {
        var queue = new InProcessQueue();
        await queue.EnqueueAsync(Job("a"), Ct);
        await queue.EnqueueAsync(Job("b"), Ct);

        await (await queue.ReceiveAsync(Ct)).AbandonAsync();

        Assert.Equal("b", (await queue.ReceiveAsync(Ct)).Job.JobId);
        Assert.Equal("a", (await queue.ReceiveAsync(Ct)).Job.JobId);
    }

    [Fact]
    public async Task ReceivedJobThatIsNotAbandonedDoesNotComeBack()
    {
        var queue = new InProcessQueue();
        await queue.EnqueueAsync(Job("a"), Ct);
        _ = await queue.ReceiveAsync(Ct);
        await queue.EnqueueAsync(Job("b"), Ct);

        Assert.Equal("b", (await queue.ReceiveAsync(Ct)).Job.JobId);
    }

    [Fact]
    public async Task ReceiveOnAnEmptyQueueWaitsUntilCancelled()
    {
        var queue = new InProcessQueue();
        using var cts = new CancellationTokenSource();

        var receive = queue.ReceiveAsync(cts.Token);
        Assert.False(receive.IsCompleted);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive);
    }
}
