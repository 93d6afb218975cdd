// The garbage collector's settings (issue 13.4). Retention is off by default: a registry that
// deletes images nobody asked it to delete would surprise its operator, and a rebuild costs
// minutes of Nix. The grace period is what keeps a build in progress safe (ARCHITECTURE.md,
// write order: its blobs are in storage before its image entry names them), so it must be
// longer than the longest build; an hour is ample for the builds this registry makes.
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Nixery.Core.Options;

namespace Nixery.Core.Collection;

public sealed class CollectionOptions
{
    /// <summary>Days an image is kept after its last pull (or, never pulled since pull records
    /// exist, after it was built); 0: never collect.</summary>
    [ConfigurationKeyName("NIXERY_RETENTION"), Range(0, 36500), Unit("days")]
    public int RetentionDays { get; set; }

    /// <summary>Seconds an object must be old before the sweep may delete it.</summary>
    [ConfigurationKeyName("NIXERY_GC_GRACE"), Range(60, 2592000), Unit("seconds")]
    public int GraceSeconds { get; set; } = 3600;

    /// <summary>Seconds between collections in the embedded default (the Azure timer function
    /// runs hourly, fixed in its attribute).</summary>
    [ConfigurationKeyName("NIXERY_GC_INTERVAL"), Range(60, 604800), Unit("seconds")]
    public int IntervalSeconds { get; set; } = 3600;

    public bool Enabled => RetentionDays > 0;

    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);

    public TimeSpan Grace => TimeSpan.FromSeconds(GraceSeconds);

    public TimeSpan Interval => TimeSpan.FromSeconds(IntervalSeconds);
}
