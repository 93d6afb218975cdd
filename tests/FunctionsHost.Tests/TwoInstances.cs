// Two emulated hosts on the same app and the same queues: two instances of a scaled-out app,
// competing for messages as on Azure. Whichever receives a message is its holder.
using Nixery.TestSupport;

namespace Nixery.FunctionsHost.Tests;

internal sealed class TwoInstances : IAsyncDisposable
{
    private TwoInstances(Azurite azurite, IReadOnlyDictionary<string, string> settings, FunctionsHost first, FunctionsHost second)
    {
        Azurite = azurite;
        Settings = settings;
        First = first;
        Second = second;
    }

    public Azurite Azurite { get; }

    public IReadOnlyDictionary<string, string> Settings { get; }

    public FunctionsHost First { get; }

    public FunctionsHost Second { get; }

    public static async Task<TwoInstances> StartAsync(string suffix, TimeSpan queueVisibility)
    {
        var azurite = await Azurite.StartAsync();
        var settings = SampleApp.Settings(azurite, suffix);
        await SampleApp.CreateQueuesAsync(azurite, settings);
        var hosts = await Task.WhenAll(
            FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = SampleApp.Directory, AppSettings = settings, QueueVisibility = queueVisibility, Name = "first" }),
            FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = SampleApp.Directory, AppSettings = settings, QueueVisibility = queueVisibility, Name = "second" }));
        return new TwoInstances(azurite, settings, hosts[0], hosts[1]);
    }

    /// <summary>The instance that received the message, and the other one.</summary>
    public async Task<(FunctionsHost Holder, FunctionsHost Other)> HolderOfAsync(string function, string messageId, TimeSpan bound)
    {
        var pattern = $"queue.received function={function} .* id={messageId} ";
        var first = First.WaitForLogAsync(pattern, bound);
        var second = Second.WaitForLogAsync(pattern, bound);
        var winner = await Task.WhenAny(first, second);
        await winner;
        return winner == first ? (First, Second) : (Second, First);
    }

    public async ValueTask DisposeAsync()
    {
        await First.DisposeAsync();
        await Second.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}
