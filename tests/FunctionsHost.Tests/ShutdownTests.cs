// Stopping the emulator stops the worker the way the host does (WorkerTerminate, which the
// .NET worker handles by stopping itself) and leaves a message whose invocation had not
// finished in its queue, for the next instance.
using Nixery.TestSupport;

namespace Nixery.FunctionsHost.Tests;

public sealed class ShutdownTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private Azurite _azurite = null!;

    public async Task InitializeAsync() => _azurite = await Azurite.StartAsync();

    public async Task DisposeAsync() => await _azurite.DisposeAsync();

    [Fact]
    public async Task DisposeStopsTheWorkerAndLeavesTheUnfinishedMessage()
    {
        var settings = SampleApp.Settings(_azurite, "shutdown");
        await SampleApp.CreateQueuesAsync(_azurite, settings);
        var queue = SampleApp.Queue(_azurite, settings["SLOW_QUEUE"]);
        var host = await FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = SampleApp.Directory, AppSettings = settings, Name = "shutdown" });
        var sent = (await queue.SendMessageAsync(Path.Combine(Path.GetTempPath(), $"never-{Guid.NewGuid():N}"))).Value;
        await host.WaitForLogAsync("worker Information .*slow waiting for", Bound);

        await host.DisposeAsync();
        var left = (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;

        Assert.True(host.WorkerExited);
        Assert.Equal(1, host.CountLines($@"host worker\.exited pid={host.WorkerProcessId} exitCode=0$"));
        Assert.Equal(0, host.CountLines("worker.kill"));
        Assert.Equal([(false, "abandoned")], host.Invocations.Where(i => i.QueueMessageId == sent.MessageId).Select(i => (i.Succeeded, i.Completion)));
        Assert.Equal(1, left);
    }
}
