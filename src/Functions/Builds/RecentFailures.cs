// The builds that failed recently, for the landing page and GET /failures: the failures a
// pull is still answered from (younger than NIXERY_FAILURE_TTL), newest first, as Nixery's
// landing page lists them.
//
// Cost. status/ holds a record for every image ever asked for and is never pruned, so a
// page view must not read it all:
//   1. list status/ — names and last-modified times only (on Azure one call per 5,000);
//   2. keep the records written within the TTL, plus ClockSkew: `updated` comes from the
//      writer's clock, the last-modified time from storage's;
//   3. read at most MaxRead of them, most recently written first, skipping records that are
//      gone, unreadable, not failed, or older than the TTL by their own `updated`;
//   4. answer the newest MaxListed.
// The answer is kept for CacheFor per instance and refreshed by one request at a time, so a
// busy landing page costs one listing per CacheFor; entries that outlive the TTL meanwhile
// are dropped on the way out. A failure can therefore show up to CacheFor late.
using System.Text.Json;
using System.Text.Json.Serialization;
using Nixery.Core.Options;
using Nixery.Core.Storage;

namespace Nixery.Functions.Builds;

/// <summary>One failed build as the failures list shows it.</summary>
public sealed record RecentFailure(
    [property: JsonPropertyName("image")] string? Image,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("missing"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Missing,
    [property: JsonPropertyName("log"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Log,
    [property: JsonPropertyName("at")] DateTimeOffset At);

public sealed class RecentFailures(RegistryStore store, StatusOptions options, TimeProvider time, ILogger<RecentFailures> logger)
{
    /// <summary>The most failures listed.</summary>
    public const int MaxListed = 50;

    /// <summary>The most status records read per refresh; recent successes are among them too.</summary>
    private const int MaxRead = 200;

    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _refresh = new(1, 1);

    private Snapshot? _cached;

    /// <summary>Failures within the TTL, newest first, at most <see cref="MaxListed"/>.</summary>
    public async Task<IReadOnlyList<RecentFailure>> GetAsync(CancellationToken ct)
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

            var read = await ReadAsync(now, ct);
            Volatile.Write(ref _cached, new Snapshot(now, read));
            return read;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private List<RecentFailure>? Fresh(DateTimeOffset now)
    {
        var snapshot = Volatile.Read(ref _cached);
        if (snapshot is null || now < snapshot.At || now - snapshot.At >= CacheFor)
        {
            return null;
        }

        return snapshot.Failures.Where(f => now - f.At <= options.FailureTtl).ToList();
    }

    private async Task<IReadOnlyList<RecentFailure>> ReadAsync(DateTimeOffset now, CancellationToken ct)
    {
        var since = now - options.FailureTtl - ClockSkew;
        var candidates = new List<(string ImageKey, DateTimeOffset Modified)>();
        await foreach (var entry in store.ListStatusesAsync(ct))
        {
            if (entry.Modified >= since)
            {
                candidates.Add(entry);
            }
        }

        var failures = new List<RecentFailure>();
        foreach (var (key, _) in candidates.OrderByDescending(c => c.Modified).Take(MaxRead))
        {
            BuildStatus? status;
            try
            {
                status = await store.GetStatusAsync(key, ct);
            }
            catch (JsonException e)
            {
                logger.LogWarning("skipping unreadable build status {ImageKey}: {Error}", key, e.Message);
                continue;
            }

            if (status is { State: BuildState.Failed } && now - status.Updated <= options.FailureTtl)
            {
                failures.Add(new RecentFailure(status.Image, status.Reason, status.Missing, status.LogTail, status.Updated));
            }
        }

        return failures.OrderByDescending(f => f.At).Take(MaxListed).ToList();
    }

    private sealed record Snapshot(DateTimeOffset At, IReadOnlyList<RecentFailure> Failures);
}
