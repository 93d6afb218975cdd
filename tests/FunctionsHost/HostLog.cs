// The emulator's one log: what the host itself did (keyed lines: "queue.received function=build
// id=… dequeueCount=1"), what the worker logged over gRPC (RpcLog) and what the worker process
// printed. Tests read it as a condition to wait for, never as a clock: WaitForAsync completes
// on the matching line, whether it was written before or after the call.
using System.Text;
using System.Text.RegularExpressions;

namespace Nixery.FunctionsHost;

internal sealed class HostLog
{
    private readonly StringBuilder _text = new();
    private readonly List<string> _lines = [];
    private readonly List<Waiter> _waiters = [];
    private readonly Lock _gate = new();
    private readonly string _name;
    private string? _closed;

    public HostLog(string name) => _name = name;

    public string Text
    {
        get
        {
            lock (_gate)
            {
                return _text.ToString();
            }
        }
    }

    /// <summary>One line: "{time} {source} {message}"; source is "host", "worker" (RpcLog),
    /// "stdout" or "stderr".</summary>
    public void Write(string source, string message)
    {
        foreach (var part in message.Split('\n'))
        {
            var line = $"{DateTimeOffset.UtcNow:HH:mm:ss.fff} [{_name}] {source} {part.TrimEnd('\r')}";
            lock (_gate)
            {
                _text.AppendLine(line);
                _lines.Add(line);
                foreach (var waiter in _waiters.ToList())
                {
                    if (waiter.Pattern.IsMatch(line) && ++waiter.Seen >= waiter.Count)
                    {
                        waiter.Found.TrySetResult(line);
                        _waiters.Remove(waiter);
                    }
                }
            }
        }
    }

    public int Count(string pattern)
    {
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        lock (_gate)
        {
            return _lines.Count(regex.IsMatch);
        }
    }

    /// <summary>Completes with the <paramref name="count"/>-th line matching
    /// <paramref name="pattern"/>; fails at <paramref name="timeout"/> or when the log is closed
    /// (the emulator stopped) with the whole log in the message.</summary>
    public async Task<string> WaitForAsync(string pattern, int count, TimeSpan timeout)
    {
        var waiter = new Waiter(new Regex(pattern, RegexOptions.CultureInvariant), count);
        lock (_gate)
        {
            var earlier = _lines.Where(l => waiter.Pattern.IsMatch(l)).Take(count).ToList();
            if (earlier.Count >= count)
            {
                return earlier[^1];
            }

            if (_closed is not null)
            {
                throw new InvalidOperationException($"no line /{pattern}/ (#{count}): {_closed}; the log:\n{_text}");
            }

            waiter.Seen = earlier.Count;
            _waiters.Add(waiter);
        }

        try
        {
            return await waiter.Found.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            lock (_gate)
            {
                _waiters.Remove(waiter);
            }

            throw new TimeoutException($"no line /{pattern}/ (#{count}) within {timeout}; the log:\n{Text}");
        }
    }

    /// <summary>Nothing more will be written for <paramref name="reason"/>: waiters fail now.</summary>
    public void Close(string reason)
    {
        lock (_gate)
        {
            _closed = reason;
            foreach (var waiter in _waiters)
            {
                waiter.Found.TrySetException(new InvalidOperationException($"no line /{waiter.Pattern}/ (#{waiter.Count}): {reason}; the log:\n{_text}"));
            }

            _waiters.Clear();
        }
    }

    private sealed class Waiter(Regex pattern, int count)
    {
        public Regex Pattern { get; } = pattern;

        public int Count { get; } = count;

        public int Seen { get; set; }

        public TaskCompletionSource<string> Found { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
