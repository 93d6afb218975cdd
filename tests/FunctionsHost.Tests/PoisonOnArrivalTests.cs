// A message that was already dequeued more than maxDequeueCount times (by earlier hosts that
// crashed, say) goes straight to <queue>-poison: the function is not run again.
using Nixery.TestSupport;

namespace Nixery.FunctionsHost.Tests;

public sealed class PoisonOnArrivalTests : IAsyncLifetime
{
    private Azurite _azurite = null!;

    public async Task InitializeAsync() => _azurite = await Azurite.StartAsync();

    public async Task DisposeAsync() => await _azurite.DisposeAsync();

    [Fact]
    public async Task MessageDequeuedTooOftenIsPoisonedWithoutAnInvocation()
    {
        var settings = SampleApp.Settings(_azurite, "arrival");
        await SampleApp.CreateQueuesAsync(_azurite, settings);
        var queue = SampleApp.Queue(_azurite, settings["RECORD_QUEUE"]);
        var sent = (await queue.SendMessageAsync("seen three times")).Value;
        // Three receives, each handed back at once: the host's receive will be the fourth.
        for (var i = 0; i < 3; i++)
        {
            var taken = (await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(30))).Value;
            await queue.UpdateMessageAsync(taken.MessageId, taken.PopReceipt, visibilityTimeout: TimeSpan.Zero);
        }

        await using var host = await FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = SampleApp.Directory, AppSettings = settings, Name = "arrival" });
        await host.WaitForLogAsync($"queue.poisoned function=record .* id={sent.MessageId} dequeueCount=4 reason=\"dequeueCount 4 > maxDequeueCount 3\"", TimeSpan.FromSeconds(90));
        var poisoned = (await SampleApp.Queue(_azurite, queue.Name + "-poison").ReceiveMessagesAsync(32)).Value.Select(m => m.Body.ToString()).ToList();

        Assert.Equal(["seen three times"], poisoned);
        Assert.Empty(host.Invocations);
        Assert.Equal(0, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }
}
