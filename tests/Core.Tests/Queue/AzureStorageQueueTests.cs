// The Azure Storage Queue backend against Azurite: the wire format, the lease protocol
// (renewal, crash, abandon, dead-letter) and the poison path for messages that are not jobs.
// Each test uses its own queue. Waits capped by Cap guard against hangs only; no test
// asserts on how long something took.
using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Queue;
using Nixery.Core.Queue.Azure;

namespace Nixery.Core.Tests.Queue;

[Collection(AzuriteQueueCollection.Name)]
public sealed class AzureStorageQueueTests(AzuriteQueueFixture azurite)
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    // Long enough for any step on a loaded machine; reaching it is a failure, not a result.
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(60);

    private static BuildJob Job(string id) => new(
        BuildJob.CurrentVersion,
        id,
        "key-" + id,
        new ImageRequest("shell/git", ["bash", "coreutils", "git"], Architecture.Arm64),
        new PackageSource("git", "https://github.com/NixOS/nixpkgs", "0123456789abcdef"));

    private sealed record TestQueue(AzureStorageQueue Queue, AzureQueueOptions Options, QueueClient Raw, QueueClient Poison);

    private async Task<TestQueue> NewQueueAsync(TimeSpan visibility)
    {
        var options = new AzureQueueOptions
        {
            QueueName = "t" + Guid.NewGuid().ToString("N")[..20],
            Visibility = visibility,
            MinPollDelay = TimeSpan.FromMilliseconds(50),
            MaxPollDelay = TimeSpan.FromMilliseconds(250),
        };
        var queue = new AzureStorageQueue(azurite.Service, options);
        await queue.EnsureCreatedAsync(Ct);
        return new TestQueue(queue, options, new QueueClient(azurite.ConnectionString, options.QueueName), new QueueClient(azurite.ConnectionString, options.PoisonQueueName));
    }

    private static async Task<IBuildLease> ReceiveAsync(IBuildQueue queue)
    {
        using var cap = new CancellationTokenSource(Cap);
        return await queue.ReceiveAsync(cap.Token);
    }

    // Counts every message in the queue, invisible ones included (peek sees only visible ones).
    private static async Task<int> CountAsync(QueueClient queue) =>
        (await queue.GetPropertiesAsync(Ct)).Value.ApproximateMessagesCount;

    private static void AssertSameJob(BuildJob expected, BuildJob actual)
    {
        Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.JobId, actual.JobId);
        Assert.Equal(expected.ImageKey, actual.ImageKey);
        Assert.Equal(expected.Image.Name, actual.Image.Name);
        Assert.Equal(expected.Image.Packages, actual.Image.Packages);
        Assert.Equal(expected.Image.Arch, actual.Image.Arch);
        Assert.Equal(expected.Source, actual.Source);
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static JsonElement DeadLetter(string messageText) =>
        JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(messageText))).RootElement;

    [Fact]
    public void QueueIsNamedAzureQueueAndIsDurable()
    {
        var queue = new AzureStorageQueue(azurite.Service, new AzureQueueOptions());
        Assert.Equal("azure-queue", queue.Name);
        Assert.True(queue.IsDurable);
    }

    [Fact]
    public async Task EnsureCreatedMakesTheQueueAndThePoisonQueue()
    {
        var q = await NewQueueAsync(TimeSpan.FromSeconds(30));

        Assert.True((await q.Raw.ExistsAsync(Ct)).Value);
        Assert.True((await q.Poison.ExistsAsync(Ct)).Value);
        Assert.Equal(q.Options.QueueName + "-poison", q.Poison.Name);
    }

    [Fact]
    public async Task EnqueuedJobIsBase64OfItsJsonOnTheWire()
    {
        var q = await NewQueueAsync(TimeSpan.FromSeconds(30));
        var job = Job("wire");

        await q.Queue.EnqueueAsync(job, Ct);
        var peeked = (await q.Raw.PeekMessageAsync(Ct)).Value;

        Assert.Equal(Base64(JsonSerializer.Serialize(job, CoreJson.Default.BuildJob)), peeked.MessageText);
    }

    [Fact]
    public async Task ReceivedJobEqualsTheEnqueuedOneAndCompleteRemovesIt()
    {
        var q = await NewQueueAsync(TimeSpan.FromSeconds(30));
        var job = Job("a");

        await q.Queue.EnqueueAsync(job, Ct);
        var lease = await ReceiveAsync(q.Queue);

        AssertSameJob(job, lease.Job);
        Assert.Equal(1, lease.DequeueCount);
        Assert.Equal(1, await CountAsync(q.Raw));

        await lease.CompleteAsync(Ct);

        Assert.Equal(0, await CountAsync(q.Raw));
        Assert.Null((await q.Raw.PeekMessageAsync(Ct)).Value);
    }

    [Fact]
    public async Task RenewalKeepsTheJobFromOtherReceiversPastTheVisibilityTimeout()
    {
        var q = await NewQueueAsync(TimeSpan.FromSeconds(2));
        await q.Queue.EnqueueAsync(Job("long-build"), Ct);
        var lease = (AzureStorageQueue.AzureBuildLease)await ReceiveAsync(q.Queue);
        var other = new AzureStorageQueue(azurite.Service, q.Options);

        // The wait is the thing under test, not synchronisation: without renewal the server makes
        // the message visible again 2 s after it was received; the other receiver polls every
        // ≤ 250 ms for 7 s (3.5 visibility timeouts) and must find nothing.
        using var hold = new CancellationTokenSource(TimeSpan.FromSeconds(7));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => other.ReceiveAsync(hold.Token));

        Assert.False(lease.Lost.IsCancellationRequested);
        Assert.Equal(1, await CountAsync(q.Raw));
        await lease.CompleteAsync(Ct);
        Assert.Equal(0, await CountAsync(q.Raw));
    }

    [Fact]
    public async Task JobOfACrashedWorkerComesBackAfterTheVisibilityTimeout()
    {
        var q = await NewQueueAsync(TimeSpan.FromSeconds(2));
        var job = Job("crash");
        await q.Queue.EnqueueAsync(job, Ct);
        var first = await ReceiveAsync(q.Queue);

        // The crash: the first worker's process goes away, its renewal with it, and it never settles.
        await q.Queue.DisposeAsync();
        var second = await ReceiveAsync(new AzureStorageQueue(azurite.Service, q.Options));

        AssertSameJob(job, second.Job);
        Assert.Equal(1, first.DequeueCount);
        Assert.Equal(2, second.DequeueCount);

        // The first lease's pop receipt is stale now: completing it must not delete the job
        // the second worker holds.
        await first.CompleteAsync(Ct);
        Assert.Equal(1, await CountAsync(q.Raw));
        await second.CompleteAsync(Ct);
        Assert.Equal(0, await CountAsync(q.Raw));
    }

    [Fact]
    public async Task LeaseReportsLostWhenTheMessageIsGone()
    {
        var q = await NewQueueAsync(TimeSpan.FromSeconds(3));
        await q.Queue.EnqueueAsync(Job("gone"), Ct);
        var lease = (AzureStorageQueue.AzureBuildLease)await ReceiveAsync(q.Queue);

        await q.Raw.ClearMessagesAsync(Ct);
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lease.Lost.Register(lost.SetResult);
        await lost.Task.WaitAsync(Cap);

        Assert.True(lease.Lost.IsCancellationRequested);
        await lease.CompleteAsync(Ct);
        Assert.Equal(0, await CountAsync(q.Poison));
    }

    [Fact]
    public async Task AbandonedJobIsReceivableAgainAtOnceWithItsDequeueCountIncremented()
    {
        var q = await NewQueueAsync(TimeSpan.FromSeconds(300));
        var job = Job("given-back");
        await q.Queue.EnqueueAsync(job, Ct);

        var first = await ReceiveAsync(q.Queue);
        await first.AbandonAsync(Ct);
        // With a 300 s visibility timeout, only the abandon can make it receivable within the cap.
        var again = await ReceiveAsync(q.Queue);

        AssertSameJob(job, again.Job);
        Assert.Equal(2, again.DequeueCount);
    }

    [Fact]
    public async Task DeadLetteredJobMovesToThePoisonQueueWithTheReason()
    {
        var q = await NewQueueAsync(TimeSpan.FromSeconds(30));
        var job = Job("poisoned");
        await q.Queue.EnqueueAsync(job, Ct);
        var lease = await ReceiveAsync(q.Queue);

        await lease.DeadLetterAsync("handed out 4 times without finishing", Ct);

        Assert.Equal(0, await CountAsync(q.Raw));
        Assert.Equal(1, await CountAsync(q.Poison));
        var record = DeadLetter((await q.Poison.PeekMessageAsync(Ct)).Value.MessageText);
        Assert.Equal(JsonSerializer.Serialize(job, CoreJson.Default.BuildJob), record.GetProperty("job").GetString());
        Assert.Equal("handed out 4 times without finishing", record.GetProperty("reason").GetString());
        Assert.Equal(1, record.GetProperty("dequeueCount").GetInt32());
    }

    [Fact]
    public async Task SettlingTwiceDoesNothingMore()
    {
        var q = await NewQueueAsync(TimeSpan.FromSeconds(300));
        await q.Queue.EnqueueAsync(Job("twice"), Ct);
        var lease = await ReceiveAsync(q.Queue);

        await lease.AbandonAsync(Ct);
        await lease.CompleteAsync(Ct);
        await lease.DeadLetterAsync("late", Ct);
        await lease.AbandonAsync(Ct);

        // Still there (the complete did not delete it) and not poisoned.
        Assert.Equal(1, await CountAsync(q.Raw));
        Assert.Equal(0, await CountAsync(q.Poison));
        Assert.Equal(2, (await ReceiveAsync(q.Queue)).DequeueCount);
    }

    public static TheoryData<string, string> NotJobs => new()
    {
        { "{not base64, not a job}", "not Base64" },
        { Base64("[1, 2, 3]"), "not a build job object" },
        { Base64("{\"hello\": \"world\"}"), "no whole-number \"version\"" },
        { Base64("{\"version\": 3, \"jobId\": \"from-the-future\"}"), "build job version 3 is not understood" },
        { Base64("{\"version\": 1, \"jobId\": \"old\"}"), "build job version 1 is not understood" },
        { Base64("{\"version\": 2, \"jobId\": \"half\"}"), "lacks fields" },
        { Base64("{\"version\": 2, \"jobId\": 7}"), "not a valid build job" },
    };

    [Theory]
    [MemberData(nameof(NotJobs))]
    public async Task MessageThatIsNotAJobGoesToThePoisonQueueAndTheNextJobIsReceived(string messageText, string reasonPart)
    {
        var q = await NewQueueAsync(TimeSpan.FromSeconds(30));
        await q.Raw.SendMessageAsync(messageText, Ct);
        await q.Queue.EnqueueAsync(Job("valid"), Ct);

        var lease = await ReceiveAsync(q.Queue);

        Assert.Equal("valid", lease.Job.JobId);
        Assert.Equal(1, await CountAsync(q.Poison));
        var record = DeadLetter((await q.Poison.PeekMessageAsync(Ct)).Value.MessageText);
        var decoded = messageText.StartsWith('{') ? messageText : Encoding.UTF8.GetString(Convert.FromBase64String(messageText));
        Assert.Equal(decoded, record.GetProperty("job").GetString());
        Assert.Contains(reasonPart, record.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, record.GetProperty("dequeueCount").GetInt32());
        await lease.CompleteAsync(Ct);
        Assert.Equal(0, await CountAsync(q.Raw));
    }

    [Fact]
    public async Task ReceiveOnAnEmptyQueueWaitsUntilCancelled()
    {
        var q = await NewQueueAsync(TimeSpan.FromSeconds(30));
        using var cts = new CancellationTokenSource();

        var receive = q.Queue.ReceiveAsync(cts.Token);
        Assert.False(receive.IsCompleted);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive.WaitAsync(Cap));
    }
}
