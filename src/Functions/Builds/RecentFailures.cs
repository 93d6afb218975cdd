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
using System.Text.Json.Serialization;
using Nixery.Core.Builds;
using Nixery.Core.Options;
using Nixery.Functions.Hosting;

namespace Nixery.Functions.Builds;

/// <summary>One failed build as the failures list shows it.</summary>
public sealed record RecentFailure(
    [property: JsonPropertyName("image")] string? Image,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("missing"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Missing,
    [property: JsonPropertyName("log"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Log,
    [property: JsonPropertyName("at")] DateTimeOffset At);

public sealed class RecentFailures(BuildLedger ledger, StatusOptions options, TimeProvider time, ILogger<RecentFailures> logger) : IDisposable
{
    /// <summary>The most failures listed.</summary>
    public const int MaxListed = 50;

    /// <summary>The most status records read per refresh; recent successes are among them too.</summary>
    private const int MaxRead = 200;

    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    private readonly CachedRead<IReadOnlyList<RecentFailure>> _cached = new(CacheFor, time);

    /// <summary>Failures within the TTL, newest first, at most <see cref="MaxListed"/>.</summary>
    public async Task<IReadOnlyList<RecentFailure>> GetAsync(CancellationToken ct)
    {
        var failures = await _cached.GetAsync(ReadAsync, ct);
        var now = time.GetUtcNow();
        return [.. failures.Where(f => now - f.At <= options.FailureTtl)];
    }

    private async Task<IReadOnlyList<RecentFailure>> ReadAsync(DateTimeOffset now, CancellationToken ct)
    {
        var failures = new List<RecentFailure>();
        var recent = await ledger.RecentAsync(now - options.FailureTtl - ClockSkew, MaxRead, (key, e) => logger.LogWarning("skipping unreadable build status {ImageKey}: {Error}", key, e.Message), ct);
        foreach (var (_, status) in recent)
        {
            if (status is { State: BuildState.Failed } && now - status.Updated <= options.FailureTtl)
            {
                failures.Add(new RecentFailure(status.Image, status.Reason, status.Missing, status.LogTail, status.Updated));
            }
        }

        return failures.OrderByDescending(f => f.At).Take(MaxListed).ToList();
    }

    public void Dispose() => _cached.Dispose();
}
