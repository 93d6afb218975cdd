// Messages on the sample's trigger queues run its functions once each, with the message text
// and its trigger metadata; a success deletes the message, a failure is retried until
// maxDequeueCount (3 in the sample's host.json) and then the message goes to <queue>-poison.
using Azure.Storage.Queues;

namespace Nixery.FunctionsHost.Tests;

public sealed class QueueTriggerTests(SampleHostFixture fixture) : IClassFixture<SampleHostFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private FunctionsHost Host => fixture.Host;

    [Fact]
    public async Task MessageRunsTheFunctionOnceThenIsDeleted()
    {
        var queue = Queue("RECORD_QUEUE");
        var sent = (await queue.SendMessageAsync("hello, record")).Value;

        var record = await CompletedAsync("record", sent.MessageId);
        var properties = (await queue.GetPropertiesAsync()).Value;

        Assert.Equal(new InvocationRecord("record", record.InvocationId, true, null, 1, sent.MessageId, "deleted"), record);
        Assert.Equal(0, properties.ApproximateMessagesCount);
    }

    [Fact]
    public async Task OutputBindingWritesTheReturnedMessage()
    {
        var queue = Queue("RECORD_QUEUE");
        var output = SampleApp.Queue(fixture.Azurite, queue.Name + "-out");
        var sent = (await queue.SendMessageAsync("to the output")).Value;

        await CompletedAsync("record", sent.MessageId);
        var written = (await output.ReceiveMessagesAsync(32)).Value.Select(m => m.Body.ToString()).ToList();

        // The function wrote "{message}|{DequeueCount}|{Id}" from the trigger metadata it got.
        Assert.Contains($"to the output|1|{sent.MessageId}", written);
    }

    [Fact]
    public async Task ThrowingFunctionIsRetriedThenItsMessageIsPoisoned()
    {
        var queue = Queue("FLAKY_QUEUE");
        var poison = SampleApp.Queue(fixture.Azurite, queue.Name + "-poison");
        var sent = (await queue.SendMessageAsync("please fail")).Value;

        await Host.WaitForLogAsync($"queue.poisoned function=flaky .* id={sent.MessageId} ", Bound);
        var attempts = Host.Invocations.Where(i => i.QueueMessageId == sent.MessageId).ToList();
        var poisoned = (await poison.ReceiveMessagesAsync(32)).Value.Select(m => m.Body.ToString()).ToList();
        var left = (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;

        Assert.Equal(
            [(false, 1L, "released"), (false, 2L, "released"), (false, 3L, "poisoned")],
            attempts.Select(a => (a.Succeeded, a.DequeueCount ?? 0, a.Completion)));
        Assert.All(attempts, a => Assert.Contains("flaky refuses 'please fail'", a.Message, StringComparison.Ordinal));
        Assert.Equal(["please fail"], poisoned);
        Assert.Equal(0, left);
    }

    [Fact]
    public async Task FunctionThatSucceedsIsNotRetried()
    {
        var queue = Queue("FLAKY_QUEUE");
        var sent = (await queue.SendMessageAsync("fine")).Value;

        var record = await CompletedAsync("flaky", sent.MessageId);

        Assert.Equal((true, 1L, "deleted"), (record.Succeeded, record.DequeueCount ?? 0, record.Completion));
        Assert.Single(Host.Invocations, i => i.QueueMessageId == sent.MessageId);
        await Host.WaitForLogAsync("worker Information .*flaky accepted fine", Bound);
    }

    private QueueClient Queue(string setting) => SampleApp.Queue(fixture.Azurite, fixture.Settings[setting]);

    private async Task<InvocationRecord> CompletedAsync(string function, string messageId)
    {
        await Host.WaitForLogAsync($"invocation.completed function={function} .* messageId={messageId} ", Bound);
        return Host.Invocations.Single(i => i.QueueMessageId == messageId);
    }
}
