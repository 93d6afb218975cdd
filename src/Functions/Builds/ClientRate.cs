// A rate per client and minute, on System.Threading.RateLimiting's PartitionedRateLimiter: the
// primitive ASP.NET Core's rate limiting middleware (Microsoft.AspNetCore.RateLimiting) is built
// on. The middleware itself is not used, because it decides per endpoint before the handler
// runs, and what is limited here is known only inside it: a manifest request is a cold build
// (limited) or a warm pull (not) only once its image key has been looked up, and a /token
// request is a failed login only once its credentials are checked. So the same limiter is
// asked at those points (BuildAdmission, TokenHandler).
//
// Each client (ClientKey) has a token bucket of `perMinute` tokens, all given back every
// minute (TokensPerPeriod = TokenLimit): a burst of `perMinute` then that many a minute. No
// queueing (QueueLimit 0): a refusal is an answer now, 429 with the Retry-After the limiter
// computes (its RetryAfter metadata), never a request held open. Idle clients' buckets are
// dropped by the limiter itself. Per process: with several HTTP instances a client gets this
// rate on each instance it reaches.
using System.Globalization;
using System.Threading.RateLimiting;

namespace Nixery.Functions.Builds;

public sealed class ClientRate : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;

    /// <param name="perMinute">Permits per client and minute; 0: no limit.</param>
    public ClientRate(int perMinute)
    {
        if (perMinute > 0)
        {
            _limiter = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = perMinute,
                TokensPerPeriod = perMinute,
                ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
        }
    }

    /// <summary>Takes one permit of <paramref name="client"/>'s; false with the seconds until
    /// the limiter expects one when none is left.</summary>
    public bool TryTake(string client, out int retryAfterSeconds) => Ask(client, 1, out retryAfterSeconds);

    /// <summary>Whether <paramref name="client"/> has a permit left, without taking it.</summary>
    public bool HasLeft(string client, out int retryAfterSeconds)
    {
        // A bucket's statistics, not AttemptAcquire(client, 0): asked for no permit, a token
        // bucket answers from its own bookkeeping, which we found to grant with none left.
        retryAfterSeconds = 0;
        if (_limiter?.GetStatistics(client) is not { CurrentAvailablePermits: <= 0 })
        {
            return true;
        }

        // The bucket is refilled whole every minute, at most that far away.
        retryAfterSeconds = 60;
        return false;
    }

    public void Dispose() => _limiter?.Dispose();

    /// <summary>Retry-After's value: whole seconds, at least 1 (RFC 9110 §10.2.3 delay-seconds).</summary>
    public static string Header(int seconds) => Math.Max(1, seconds).ToString(CultureInfo.InvariantCulture);

    private bool Ask(string client, int permits, out int retryAfterSeconds)
    {
        retryAfterSeconds = 0;
        if (_limiter is null)
        {
            return true;
        }

        using var lease = _limiter.AttemptAcquire(client, permits);
        if (lease.IsAcquired)
        {
            return true;
        }

        retryAfterSeconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? (int)Math.Ceiling(retryAfter.TotalSeconds)
            : 60;
        retryAfterSeconds = Math.Max(1, retryAfterSeconds);
        return false;
    }
}
