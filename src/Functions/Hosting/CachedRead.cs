// A value read from storage and kept for a short while by one instance, shared by all its
// requests: a page that many browsers have open costs one read per period, not one per
// request. One request at a time refreshes it; the others wait for that read and take its
// value. A clock that went back (now before the read) makes the copy stale too.
namespace Nixery.Functions.Hosting;

public sealed class CachedRead<T>(TimeSpan keepFor, TimeProvider time) : IDisposable
    where T : class
{
    private readonly SemaphoreSlim _refresh = new(1, 1);

    private Entry? _cached;

    /// <summary>The kept value while it is fresh, else what <paramref name="read"/> (given the
    /// time of reading) returns now, kept from then on.</summary>
    public async Task<T> GetAsync(Func<DateTimeOffset, CancellationToken, Task<T>> read, CancellationToken ct)
    {
        if (Fresh(time.GetUtcNow()) is { } cached)
        {
            return cached;
        }

        await _refresh.WaitAsync(ct);
        try
        {
            var now = time.GetUtcNow();
            if (Fresh(now) is { } refreshed)
            {
                return refreshed;
            }

            var value = await read(now, ct);
            Volatile.Write(ref _cached, new Entry(now, value));
            return value;
        }
        finally
        {
            _refresh.Release();
        }
    }

    public void Dispose() => _refresh.Dispose();

    private T? Fresh(DateTimeOffset now) =>
        Volatile.Read(ref _cached) is { } entry && now >= entry.At && now - entry.At < keepFor ? entry.Value : null;

    private sealed record Entry(DateTimeOffset At, T Value);
}
