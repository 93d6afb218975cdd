// How long a build's status record stands (status/<image-key>.json): a failure is remembered,
// so clients retrying do not rebuild every few seconds, and a build that stopped reporting is
// presumed lost, so the next pull enqueues it again. Read by the HTTP side.
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Nixery.Core.Options;

public sealed class StatusOptions
{
    /// <summary>Seconds a failed build is remembered before a pull tries it again.</summary>
    [ConfigurationKeyName("NIXERY_FAILURE_TTL"), Range(0, 604800)]
    public int FailureTtlSeconds { get; set; } = 300;

    /// <summary>Seconds after which a queued or building status with no result is presumed lost
    /// (its worker died) and the next pull enqueues the build again.</summary>
    [ConfigurationKeyName("NIXERY_BUILD_STALE"), Range(10, 604800)]
    public int BuildStaleSeconds { get; set; } = 900;

    public TimeSpan FailureTtl => TimeSpan.FromSeconds(FailureTtlSeconds);

    public TimeSpan BuildStaleAfter => TimeSpan.FromSeconds(BuildStaleSeconds);
}
