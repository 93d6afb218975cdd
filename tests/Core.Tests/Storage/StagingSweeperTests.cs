// The staging sweeper's schedule on a FakeTimeProvider: it sweeps when it starts and again at
// each interval of the clock, so "an hour later" is a step of the clock, not a wait. The
// uploads' times are set relative to the fake clock, so the real one plays no part.
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Storage;

public sealed class StagingSweeperTests
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromHours(1);

    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    /// <summary>A bound on each awaited sweep, not a wait for one.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AStaleUploadIsSweptAtStartAndAYoungerOneOnceTheClockHasPassedItsAge()
    {
        using var dir = new TempDir("nixery-sweeper");
        var storage = new FileSystemStorage(dir.Path);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Upload(dir, "old", time.GetUtcNow() - MaxAge - TimeSpan.FromMinutes(1));
        Upload(dir, "recent", time.GetUtcNow() - TimeSpan.FromMinutes(1));
        var log = new SweepLog();
        using var sweeper = new StagingSweeper(storage, new StagingSweepOptions(MaxAge, Interval), time, log);

        await sweeper.StartAsync(CancellationToken.None);
        Assert.Equal("swept 1 stale staging uploads", await log.NextAsync().AsTask().WaitAsync(Bound));
        Assert.Equal(["staging/recent"], await ListAsync(storage));

        time.Advance(MaxAge);
        Assert.Equal("swept 1 stale staging uploads", await log.NextAsync().AsTask().WaitAsync(Bound));
        Assert.Empty(await ListAsync(storage));

        await sweeper.StopAsync(CancellationToken.None);
    }

    private static void Upload(TempDir dir, string name, DateTimeOffset modified)
    {
        var path = Path.Combine(dir.Path, "staging", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, name);
        File.SetLastWriteTimeUtc(path, modified.UtcDateTime);
    }

    private static async Task<List<string>> ListAsync(FileSystemStorage storage)
    {
        var paths = new List<string>();
        await foreach (var (path, _) in storage.ListAsync(StorageLayout.StagingPrefix, CancellationToken.None))
        {
            paths.Add(path);
        }

        return paths;
    }

    /// <summary>The sweeper's "swept …" lines, in order, up to the count of uploads.</summary>
    private sealed class SweepLog : ILogger<StagingSweeper>
    {
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

        public ValueTask<string> NextAsync() => _lines.Reader.ReadAsync();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            if (message.StartsWith("swept", StringComparison.Ordinal))
            {
                _lines.Writer.TryWrite(message[..message.IndexOf(" older", StringComparison.Ordinal)]);
            }
        }
    }
}
