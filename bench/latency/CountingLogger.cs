// Counts the layer cache's "reused layer" lines, so the warm build says how many layers it
// took from the cache; every other line is dropped.
using Microsoft.Extensions.Logging;

namespace Nixery.Bench.Latency;

internal sealed class CountingLogger<T> : ILogger<T>
{
    private int _reused;

    public int Reused => Volatile.Read(ref _reused);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (formatter(state, exception).StartsWith("reused layer", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _reused);
        }
    }
}
