// What one client may cost the registry (issue 13, "fair and bounded building"): how many
// packages one image may name, how many cold builds a client may start per minute, how many of
// its builds may wait in the queue at once, and how many failed logins it may try per minute.
// Warm pulls (an image already built) are never limited here. Read by the HTTP side
// (BuildAdmission, ManifestHandler, TokenHandler); the worker's own limit, the largest image,
// is NIXERY_MAX_IMAGE_BYTES in BuildOptions.
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Nixery.Core.Options;

namespace Nixery.Functions.Builds;

public sealed class LimitOptions
{
    public const string MaxPackagesKey = "NIXERY_MAX_PACKAGES";
    public const string BuildRateKey = "NIXERY_BUILD_RATE";
    public const string MaxQueuedKey = "NIXERY_MAX_QUEUED_PER_CLIENT";
    public const string AuthFailureRateKey = "NIXERY_AUTH_FAILURE_RATE";
    public const string TrustForwardedKey = "NIXERY_TRUST_FORWARDED_FOR";

    /// <summary>Most components (packages and meta-packages) one image name may have. Each is a
    /// package Nix evaluates and realises; Nixery's own examples name a handful, and 64 leaves
    /// room for any real toolbox image while bounding what one URL can ask for.</summary>
    [ConfigurationKeyName(MaxPackagesKey), Range(1, 10000), Unit("packages")]
    public int MaxPackages { get; set; } = 64;

    /// <summary>Cold builds one client may start per minute (a token bucket of this many tokens
    /// refilled every minute); 0: no limit.</summary>
    [ConfigurationKeyName(BuildRateKey), Range(0, 1000000), Unit("builds per minute")]
    public int BuildRatePerMinute { get; set; } = 30;

    /// <summary>Builds one client may have queued or building at once; 0: no limit.</summary>
    [ConfigurationKeyName(MaxQueuedKey), Range(0, 1000000), Unit("builds")]
    public int MaxQueuedPerClient { get; set; } = 10;

    /// <summary>Failed logins at /token one client may make per minute; each costs a PBKDF2
    /// verification of 600,000 iterations (PasswordHash); 0: no limit.</summary>
    [ConfigurationKeyName(AuthFailureRateKey), Range(0, 1000000), Unit("failures per minute")]
    public int AuthFailuresPerMinute { get; set; } = 10;

    /// <summary>"on": the client is the last address of X-Forwarded-For (the one the trusted
    /// proxy in front saw), "off": the connection's remote address.</summary>
    [ConfigurationKeyName(TrustForwardedKey), AllowedValues("off", "on")]
    public string TrustForwardedFor { get; set; } = "off";

    public bool TrustsForwardedFor => TrustForwardedFor == "on";
}
