// The Azure Storage Queue as the HTTP side uses it, against Azurite: it creates the queue and
// its poison queue, and sends each job as Base64 of its JSON, which is what the Functions
// queue trigger decodes by default. Receiving, renewal and poisoning belong to the trigger
// (tests/EndToEnd.Tests/Functions). Each test uses its own queue.
using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Queue;
using Nixery.Core.Azure;
using Nixery.Core.Sources;

namespace Nixery.Core.Tests.Queue;

[Collection(AzuriteQueueCollection.Name)]
public sealed class AzureStorageQueueTests(AzuriteQueueFixture azurite)
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    internal static BuildJob Job(string id) => new(
        BuildJob.CurrentVersion,
        id,
        "key-" + id,
        new ImageRequest("shell/git", ["bash", "coreutils", "git"], Architecture.Arm64),
        new PackageSource("git", "https://github.com/NixOS/nixpkgs", "0123456789abcdef"));

    private sealed record TestQueue(AzureStorageQueue Queue, AzureQueueOptions Options, QueueClient Raw, QueueClient Poison);

    private async Task<TestQueue> NewQueueAsync()
    {
        var options = new AzureQueueOptions { QueueName = "t" + Guid.NewGuid().ToString("N")[..20] };
        var queue = new AzureStorageQueue(azurite.Service, options);
        await queue.EnsureCreatedAsync(Ct);
        return new TestQueue(queue, options, new QueueClient(azurite.ConnectionString, options.QueueName), new QueueClient(azurite.ConnectionString, options.PoisonQueueName));
    }

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
        var q = await NewQueueAsync();

        Assert.True((await q.Raw.ExistsAsync(Ct)).Value);
        Assert.True((await q.Poison.ExistsAsync(Ct)).Value);
        Assert.Equal(q.Options.QueueName + "-poison", q.Poison.Name);
    }

    [Fact]
    public async Task EnqueuedJobIsBase64OfItsJsonOnTheWire()
    {
        var q = await NewQueueAsync();
        var job = Job("wire");

        await q.Queue.EnqueueAsync(job, Ct);
        var peeked = (await q.Raw.PeekMessageAsync(Ct)).Value;

        Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(job, CoreJson.Default.BuildJob))), peeked.MessageText);
    }

    [Fact]
    public async Task EnqueuedJobDecodedAsTheTriggerDecodesItParsesBackToTheSameJob()
    {
        var q = await NewQueueAsync();
        var job = Job("round-trip");

        await q.Queue.EnqueueAsync(job, Ct);
        var text = Encoding.UTF8.GetString(Convert.FromBase64String((await q.Raw.PeekMessageAsync(Ct)).Value.MessageText));
        var (parsed, reason) = BuildMessages.Parse(text);

        Assert.Equal("", reason);
        Assert.NotNull(parsed);
        Assert.Equal(job.JobId, parsed.JobId);
        Assert.Equal(job.ImageKey, parsed.ImageKey);
        Assert.Equal(job.Image.Name, parsed.Image.Name);
        Assert.Equal(job.Image.Packages, parsed.Image.Packages);
        Assert.Equal(job.Image.Arch, parsed.Image.Arch);
        Assert.Equal(job.Source, parsed.Source);
    }
}
