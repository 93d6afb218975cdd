// How a manifest request waits for a build before it tells the client to come back (429 +
// Retry-After), which podman, skopeo and containerd do by themselves. Read by the HTTP side.
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Nixery.Functions.Builds;

public sealed class BuildWaitOptions
{
    /// <summary>Seconds a manifest request waits for a build before answering 429; at most what
    /// a client waits for an answer and well within a function's time limit.</summary>
    [ConfigurationKeyName("NIXERY_BUILD_WAIT"), Range(0, 600)]
    public int BuildWaitSeconds { get; set; } = 20;

    /// <summary>The Retry-After seconds of that 429 (the longest one: a build close to done is
    /// told less, BuildCoordinator).</summary>
    [ConfigurationKeyName("NIXERY_RETRY_AFTER"), Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 5;

    public TimeSpan BuildWait => TimeSpan.FromSeconds(BuildWaitSeconds);
}
