// A logger whose lines a test can wait on, one after another: the code under test says when
// something happened (a lease renewed, a worker started waiting for a layer), and waiting for
// that line is waiting for the event itself, never for a length of time.
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Nixery.TestSupport;

public sealed class LogLines<T> : ILogger<T>
{
    /// <summary>How long a line may take to come before the test fails (the code under test does real I/O).</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    /// <summary>The next line that starts with <paramref name="prefix"/>; lines before it are passed over.</summary>
    public async Task<string> NextAsync(string prefix)
    {
        using var bound = new CancellationTokenSource(Bound);
        while (true)
        {
            var line = await _lines.Reader.ReadAsync(bound.Token);
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Writer.TryWrite(formatter(state, exception));
}
