// Remembers what a moving target resolved to for a short time, so `latest` follows a branch
// or channel without a lookup on every pull (ARCHITECTURE.md, "Image keys and caching").
// Concurrent requests for one key share one lookup; a failed lookup is not remembered.
namespace Nixery.Core.Sources;

public sealed class RevisionCache(TimeProvider time, TimeSpan keepFor)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (Task<string> Lookup, DateTimeOffset At)> _entries = new(StringComparer.Ordinal);

    /// <param name="lookup">Runs without the caller's cancellation: other requests may be waiting on it.</param>
    public Task<string> GetAsync(string key, Func<Task<string>> lookup, CancellationToken cancellationToken)
    {
        Task<string> task;
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (!_entries.TryGetValue(key, out var entry) || now - entry.At > keepFor || entry.Lookup.IsFaulted || entry.Lookup.IsCanceled)
            {
                entry = (Task.Run(lookup, CancellationToken.None), now);
                _entries[key] = entry;
            }

            task = entry.Lookup;
        }

        return task.WaitAsync(cancellationToken);
    }
}
