// Captures log entries with their structured values, so tests can check what was logged under which key.
using Microsoft.Extensions.Logging;

namespace Nixery.Builder.Tests.Nix;

internal sealed record LogEntry(LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Values);

internal sealed class ListLogger<T> : ILogger<T>
{
    private readonly List<LogEntry> entries = [];

    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (entries)
            {
                return [.. entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? pairs.ToDictionary(p => p.Key, p => p.Value)
            : new Dictionary<string, object?>();
        lock (entries)
        {
            entries.Add(new LogEntry(logLevel, formatter(state, exception), values));
        }
    }
}
