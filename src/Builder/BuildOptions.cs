// The build's settings, read by the two processes that build (the build function app and the
// embedded default): Nix, layer grouping and packing, and where fetched sources are kept.
// Bound and checked like every options class (Core/Options/Settings.cs).
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Nixery.Core.Options;

namespace Nixery.Builder;

public sealed class BuildOptions : ICheckedSettings
{
    public const string StableLayering = "stable";

    public const string NixeryLayering = "nixery";

    /// <summary>Seconds one Nix step may take (Nixery's name).</summary>
    [ConfigurationKeyName("NIX_TIMEOUT"), Range(1, 86400)]
    public int NixTimeoutSeconds { get; set; } = 60;

    /// <summary>The folder holding the Nix expressions (prepare-image.nix); nix/ beside the app.</summary>
    [ConfigurationKeyName("NIXERY_NIX_PATH")]
    public string NixExpressionsPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "nix");

    /// <summary>Popularity data, a file path or file:// URL (Nixery's name).</summary>
    [ConfigurationKeyName("NIX_POPULARITY_URL")]
    public string? PopularityUrl { get; set; }

    /// <summary>Most layers per image, the symlink layer included (LayerBudget says why 94).</summary>
    [ConfigurationKeyName("NIXERY_LAYER_BUDGET"), Range(2, 125)]
    public int LayerBudget { get; set; } = Layers.LayerBudget.Default;

    /// <summary>How store paths are grouped into layers: "stable" (StableLayerGrouper) or
    /// "nixery" (Nixery's algorithm, NixeryLayerGrouper).</summary>
    [ConfigurationKeyName("NIXERY_LAYERING"), AllowedValues(StableLayering, NixeryLayering)]
    public string Layering { get; set; } = StableLayering;

    /// <summary>Seconds a worker's claim on a layer it packs lasts without renewal (renewed every
    /// third of that); a dead worker's claim expires after it.</summary>
    [ConfigurationKeyName("NIXERY_LAYER_CLAIM_TTL"), Range(3, 3600)]
    public int LayerClaimTtlSeconds { get; set; } = 120;

    /// <summary>Layers a worker packs at once, and deflate chunks it compresses at once.</summary>
    [ConfigurationKeyName("NIXERY_PACK_CONCURRENCY"), Range(1, 256)]
    public int PackConcurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>The folder where a worker keeps fetched sources (git mirrors, unpacked channel
    /// tarballs), one checkout per revision.</summary>
    [ConfigurationKeyName("NIXERY_SOURCE_CACHE")]
    public string SourceCachePath { get; set; } = ".state/sources";

    /// <summary>The largest closure an image may hold, in bytes (the sum of its store paths' NAR
    /// sizes, i.e. unpacked); checked after Nix realises it, before packing. 0: no limit. The
    /// default, 8 GiB, is past any image a registry should serve a pull of (Docker Hub's largest
    /// common images are a few GiB) yet stops a name from filling the storage with one build.</summary>
    [ConfigurationKeyName("NIXERY_MAX_IMAGE_BYTES"), Range(typeof(long), "0", "1099511627776"), Unit("bytes")]
    public long MaxImageBytes { get; set; } = 8L * 1024 * 1024 * 1024;

    public TimeSpan NixTimeout => TimeSpan.FromSeconds(NixTimeoutSeconds);

    public TimeSpan LayerClaimTtl => TimeSpan.FromSeconds(LayerClaimTtlSeconds);

    /// <summary>The popularity file's path (NIX_POPULARITY_URL may be a file:// URL).</summary>
    public string? PopularityPath =>
        PopularityUrl is null ? null : PopularityUrl.StartsWith("file://", StringComparison.Ordinal) ? new Uri(PopularityUrl).LocalPath : PopularityUrl;

    public void Check(ICollection<string> errors)
    {
        if (!File.Exists(Path.Combine(NixExpressionsPath, "prepare-image.nix")))
        {
            errors.Add($"NIXERY_NIX_PATH is '{NixExpressionsPath}', which has no prepare-image.nix; it must name the repository's nix/ folder.");
        }

        if (PopularityPath is { } path && !File.Exists(path))
        {
            errors.Add($"NIX_POPULARITY_URL is '{PopularityUrl}', which does not exist; it must be a popularity JSON file (path or file:// URL).");
        }
    }
}
