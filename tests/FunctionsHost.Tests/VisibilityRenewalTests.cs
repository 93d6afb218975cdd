// A message whose invocation runs longer than the queue visibility stays invisible: its
// holder renews the visibility at half of it, so the other instance, polling all along, never
// receives it. Without renewals the message would reappear after one visibility and the other
// instance would run it a second time.
namespace Nixery.FunctionsHost.Tests;

public sealed class VisibilityRenewalTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Visibility = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task MessageHeldLongerThanTheVisibilityIsNotDeliveredTwice()
    {
        await using var instances = await TwoInstances.StartAsync("renewal", Visibility);
        var release = Path.Combine(Path.GetTempPath(), $"release-{Guid.NewGuid():N}");
        var queue = SampleApp.Queue(instances.Azurite, instances.Settings["SLOW_QUEUE"]);
        var sent = (await queue.SendMessageAsync(release)).Value;

        var (holder, other) = await instances.HolderOfAsync("slow", sent.MessageId, Bound);
        // Three renewals, one every half visibility: the first visibility has long lapsed.
        await holder.WaitForLogAsync($"queue.renewed function=slow .* id={sent.MessageId} renewal=3 ", Bound);
        // The other instance has polled the slow queue since, and found nothing.
        var polls = other.CountLines("queue.polled function=slow ");
        await other.WaitForLogAsync("queue.polled function=slow ", polls + 1, Bound);
        File.WriteAllText(release, "");
        await holder.WaitForLogAsync($"invocation.completed function=slow .* messageId={sent.MessageId} ", Bound);
        File.Delete(release);

        Assert.Equal(
            [(true, 1L, "deleted")],
            holder.Invocations.Where(i => i.QueueMessageId == sent.MessageId).Select(i => (i.Succeeded, i.DequeueCount ?? 0, i.Completion)));
        Assert.Equal(0, other.CountLines($"queue.received function=slow .* id={sent.MessageId} "));
        Assert.Empty(other.Invocations);
        Assert.Equal(0, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }
}
