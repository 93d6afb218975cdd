// Which popularity data a build uses, decided here and nowhere else. In order:
//
//   1. NIX_POPULARITY_URL, when set: loaded once at start-up (Configured);
//   2. else popularity/computed.json in the registry's storage, written by the worker host's
//      `popularity --store` command, so that every worker (on Azure too) uses the same data;
//   3. else popularity/learned.json: what this registry learned from the images it built.
//
// Storage is read when a build asks, and the answer is kept for CacheFor, so a burst of
// builds reads it once and a newly stored computed.json is picked up soon after.
//
// After each successful build the image's store-path package names are counted once into
// learned.json with an ETag-conditional read-modify-write (RecordImageAsync). A conflict is
// retried a few times; an update still lost after that is logged and dropped: popularity is
// a hint for layer grouping, never worth failing or blocking a build over.
using Microsoft.Extensions.Logging;
using Nixery.Builder.Layers;
using Nixery.Builder.Nix;
using Nixery.Core.Storage;

namespace Nixery.Builder.PopularityData;

/// <param name="Configured">Data from NIX_POPULARITY_URL, or null to use storage.</param>
/// <param name="CacheFor">How long an answer read from storage is reused.</param>
public sealed record PopularitySourceOptions(Popularity? Configured, TimeSpan CacheFor)
{
    public static readonly TimeSpan DefaultCacheFor = TimeSpan.FromSeconds(60);

    /// <summary>Conditional writes of learned.json tried before an update is given up.</summary>
    public int LearnedWriteAttempts { get; init; } = 5;
}

/// <summary>The data a build uses and where it came from ("NIX_POPULARITY_URL", "computed", "learned", "none").</summary>
public sealed record SelectedPopularity(Popularity Data, string Origin);

public sealed class PopularitySource(PopularityStore store, PopularitySourceOptions options, TimeProvider time, ILogger<PopularitySource> logger)
{
    private sealed record Cached(SelectedPopularity Value, DateTimeOffset At);

    private Cached? _cached;

    public async Task<SelectedPopularity> GetAsync(CancellationToken ct)
    {
        if (options.Configured is { } configured)
        {
            return new SelectedPopularity(configured, "NIX_POPULARITY_URL");
        }

        var now = time.GetUtcNow();
        if (Volatile.Read(ref _cached) is { } cached && now - cached.At < options.CacheFor)
        {
            return cached.Value;
        }

        var selected = await ReadAsync(ct);
        Volatile.Write(ref _cached, new Cached(selected, now));
        return selected;
    }

    /// <summary>Counts each package name of a built image's store paths once into learned.json.
    /// Never throws (a failure or cancellation is logged as a lost update): the image is built already.</summary>
    public async Task RecordImageAsync(IEnumerable<string> storePaths, CancellationToken ct)
    {
        var names = storePaths.Select(StorePaths.Name).Distinct(StringComparer.Ordinal).ToList();
        try
        {
            for (var attempt = 1; attempt <= options.LearnedWriteAttempts; attempt++)
            {
                var current = await store.GetLearnedAsync(ct);
                SortedDictionary<string, int> counts;
                try
                {
                    counts = current is { } c ? PopularityCounter.ReadJson(c.Json) : new SortedDictionary<string, int>(StringComparer.Ordinal);
                }
                catch (FormatException e)
                {
                    // A damaged document is replaced rather than left to block learning forever.
                    logger.LogWarning("{Path} is unreadable and is started afresh: {Error}", StorageLayout.LearnedPopularity, e.Message);
                    counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
                }

                foreach (var name in names)
                {
                    counts[name] = counts.TryGetValue(name, out var n) ? n + 1 : 1;
                }

                if (await store.TryPutLearnedAsync(PopularityCounter.ToJson(counts), current?.ETag, ct))
                {
                    return;
                }

                logger.LogInformation("{Path} changed while recording {Count} package names (attempt {Attempt} of {Attempts}); retrying",
                    StorageLayout.LearnedPopularity, names.Count, attempt, options.LearnedWriteAttempts);
            }

            logger.LogWarning("learned popularity update lost: {Path} kept changing under {Attempts} conditional writes; {Count} package names of this image are not counted",
                StorageLayout.LearnedPopularity, options.LearnedWriteAttempts, names.Count);
        }
        catch (Exception e)
        {
            // Cancellation too: the image is already visible, so the build must still count as done.
            logger.LogWarning(e, "learned popularity update lost: writing {Path} failed", StorageLayout.LearnedPopularity);
        }
    }

    private async Task<SelectedPopularity> ReadAsync(CancellationToken ct)
    {
        try
        {
            if (await store.GetComputedAsync(ct) is { } computed)
            {
                return new SelectedPopularity(Popularity.Parse(computed), "computed");
            }
        }
        catch (FormatException e)
        {
            logger.LogWarning("{Path} is not usable popularity data, falling back to learned popularity: {Error}", StorageLayout.ComputedPopularity, e.Message);
        }

        try
        {
            if (await store.GetLearnedAsync(ct) is { } learned)
            {
                return new SelectedPopularity(Popularity.Parse(learned.Json), "learned");
            }
        }
        catch (FormatException e)
        {
            logger.LogWarning("{Path} is not usable popularity data: {Error}", StorageLayout.LearnedPopularity, e.Message);
        }

        return new SelectedPopularity(Popularity.Empty, "none");
    }
}
