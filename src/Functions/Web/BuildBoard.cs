// The builds the web page shows as in progress, and those that just settled, from the build
// ledger's status records (BuildLedger documents the states). Both the landing page's snapshot
// and the live updates (BuildEventsHandler) read it, so every open page on an instance costs
// the same one refresh.
//
// Cost. status/ holds a record for every image ever asked for, so a refresh
//   1. lists status/ — names and last-modified times only;
//   2. keeps those written within NIXERY_BUILD_STALE (+ ClockSkew): a queued record can wait
//      that long, and a building one rewrites itself every 5 s (its heartbeat);
//   3. reads at most MaxRead of them, newest first;
//   4. keeps queued and building records the ledger does not call stale, and done and failed
//      ones settled within SettledFor, so that a page that watched a build sees it end.
// A refresh is kept for CacheFor, one refresh at a time: on Azure one listing a second per
// instance however many pages are open. Building records name their image (the worker's
// heartbeats); a queued one does not yet (the HTTP side's claim), nor a done one, so the page
// names those by the key until the live updates have seen a name.
using System.Text.Json.Serialization;
using Nixery.Core.Builds;
using Nixery.Core.Options;
using Nixery.Functions.Hosting;

namespace Nixery.Functions.Web;

/// <summary>A build as the page shows it; also the JSON of one live update.</summary>
/// <param name="Key">The image key (hex): the build's identity on the page.</param>
public sealed record BuildView(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("image")] string? Image,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("phase")] string Phase,
    [property: JsonPropertyName("layersReady")] int? LayersReady,
    [property: JsonPropertyName("layersTotal")] int? LayersTotal,
    [property: JsonPropertyName("layersBytes")] long? LayersBytes,
    [property: JsonPropertyName("updated")] DateTimeOffset Updated,
    [property: JsonPropertyName("reason")] string? Reason)
{
    public static BuildView Of(string key, BuildStatus status) => new(
        key,
        status.Image,
        status.State.ToString().ToLowerInvariant(),
        PhaseOf(status),
        status.LayersReady,
        status.LayersTotal,
        status.LayersBytes,
        status.Updated,
        status.Reason);

    /// <summary>What the build is doing, in words: the ledger knows packing (layers ready of the
    /// total) from before it (source checkout, Nix), and a retry by its reason.</summary>
    private static string PhaseOf(BuildStatus status) => status.State switch
    {
        BuildState.Queued => "waiting for a worker",
        BuildState.Building when status.LayersTotal is { } total && status.LayersReady is { } ready && ready >= total => "writing manifests",
        BuildState.Building when status.LayersTotal is not null => "packing layers",
        BuildState.Building when status.Reason is not null => "retrying after a failed attempt",
        BuildState.Building => "fetching the package source and building with Nix",
        BuildState.Done => "ready to pull",
        _ => "not built",
    };
}

public sealed class BuildBoard(BuildLedger ledger, StatusOptions options, TimeProvider time, ILogger<BuildBoard> logger) : IDisposable
{
    /// <summary>The most status records read per refresh.</summary>
    public const int MaxRead = 200;

    /// <summary>How long a settled build stays on the board.</summary>
    public static readonly TimeSpan SettledFor = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);

    private readonly CachedRead<IReadOnlyList<BuildView>> _cached = new(CacheFor, time);

    /// <summary>Builds in progress and just settled, newest first.</summary>
    public Task<IReadOnlyList<BuildView>> GetAsync(CancellationToken ct) => _cached.GetAsync(ReadAsync, ct);

    private async Task<IReadOnlyList<BuildView>> ReadAsync(DateTimeOffset now, CancellationToken ct)
    {
        var builds = new List<BuildView>();
        var recent = await ledger.RecentAsync(now - options.BuildStaleAfter - ClockSkew, MaxRead, (key, e) => logger.LogWarning("skipping unreadable build status {ImageKey}: {Error}", key, e.Message), ct);
        foreach (var (key, status) in recent)
        {
            var shown = status switch
            {
                { State: BuildState.Queued or BuildState.Building } => !ledger.IsStale(status),
                { State: BuildState.Done or BuildState.Failed } => now - status.Updated <= SettledFor,
                _ => false,
            };
            if (shown)
            {
                builds.Add(BuildView.Of(key, status));
            }
        }

        return [.. builds.OrderByDescending(b => b.Updated).ThenBy(b => b.Key, StringComparer.Ordinal)];
    }

    public void Dispose() => _cached.Dispose();
}
