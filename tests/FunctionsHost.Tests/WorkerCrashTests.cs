// When an instance's worker is killed in the middle of an invocation, its message is neither
// deleted nor handed back: it reappears once its visibility lapses, and another instance runs
// it again, one dequeue later.
namespace Nixery.FunctionsHost.Tests;

public sealed class WorkerCrashTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task MessageOfAKilledWorkerReappearsForAnotherInstance()
    {
        await using var instances = await TwoInstances.StartAsync("crash", TimeSpan.FromSeconds(5));
        var release = Path.Combine(Path.GetTempPath(), $"release-{Guid.NewGuid():N}");
        var queue = SampleApp.Queue(instances.Azurite, instances.Settings["SLOW_QUEUE"]);
        var sent = (await queue.SendMessageAsync(release)).Value;

        var (holder, other) = await instances.HolderOfAsync("slow", sent.MessageId, Bound);
        await holder.WaitForLogAsync($"worker Information .*slow waiting for {release}", Bound);
        holder.KillWorker();
        await holder.WaitForLogAsync($"invocation.completed function=slow .* messageId={sent.MessageId} ", Bound);
        File.WriteAllText(release, "");
        await other.WaitForLogAsync($"invocation.completed function=slow .* messageId={sent.MessageId} ", Bound);
        File.Delete(release);

        var crashed = holder.Invocations.Single(i => i.QueueMessageId == sent.MessageId);
        Assert.True(holder.WorkerExited);
        Assert.Equal((false, 1L, "abandoned"), (crashed.Succeeded, crashed.DequeueCount ?? 0, crashed.Completion));
        Assert.Equal(0, holder.CountLines($"queue.(released|deleted|poisoned) .* id={sent.MessageId}"));
        Assert.Equal(
            [(true, 2L, "deleted")],
            other.Invocations.Where(i => i.QueueMessageId == sent.MessageId).Select(i => (i.Succeeded, i.DequeueCount ?? 0, i.Completion)));
    }
}
