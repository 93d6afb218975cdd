// The HTTP side of a build. On a manifest request for an image that is not built yet it
// claims the build through the build ledger (Core/Builds/BuildLedger.cs: one winner among
// concurrent misses, here or on other instances, so one job is enqueued), waits up to
// NIXERY_BUILD_WAIT for the outcome, and otherwise tells the client to come back (429 +
// Retry-After), which podman/skopeo/containerd do by themselves. A failed build is
// remembered for NIXERY_FAILURE_TTL (the ledger's staleness rules) so that a client's retry
// loop does not rebuild every few seconds.
//
// A build whose worker died is enqueued again by the next pull that looks, or by a request
// already waiting for it, as soon as the ledger calls its status stale: a building status
// whose heartbeat is older than 3 beats (15 s, BuildLedger.HeartbeatStaleAfter), so recovery
// takes seconds, not the queue's visibility timeout (minutes; issue 16). The claim is
// conditional (one winner among all instances), so it enqueues one job; that job's id is in
// the status, and a later delivery of the dead one's message stops without building
// (BuildJobRunner). A queued status has no heartbeat and keeps NIXERY_BUILD_STALE: a job
// waiting in a backlog is not dead.
//
// At the end of the wait the build's own progress decides (the worker records layers ready
// of the total, and since when it packs: BuildAttempt): a build estimated to finish within
// NIXERY_RETRY_AFTER is waited for up to that much longer, once, because a client told to
// retry would not be back sooner (measured: a build ending 1.6 s after the wait cost the pull
// the whole 5 s); otherwise the 429's Retry-After is the estimated time left, at most
// NIXERY_RETRY_AFTER. With NIXERY_BUILD_WAIT 0 the answer stays immediate. A build that
// finished while the request waited is served, never answered 429.
//
// Storage faults (issue 16): before the job is enqueued, an outage fails the request, which
// RegistryResult answers 503 UNAVAILABLE. Once the build is waited for, no storage read runs
// past the wait's end plus ReadGrace (real clock: it bounds network calls; a test's fake clock
// moves the wait, not the network), and a read that fails or is cut off is no news: the wait
// goes on, and at its end the answer is 429 with Retry-After as for any build still running.
// So a manifest request answers within its wait + ReadGrace however storage hangs, never 500.
//
// Before a cold build is claimed (issue 13, "fair and bounded building"), and only then, so
// built images and remembered failures are served as before: names with packages the package
// set's index lacks are answered 404 MANIFEST_UNKNOWN, as a build that found them missing would
// be, but with no status written and no job (PackageIndexCache); then the client's limits
// (BuildAdmission: queued builds per client, cold builds per minute) may answer 429. A stale
// build enqueued again is not a new build and passes neither.
using System.Diagnostics;
using Nixery.Core.Builds;
using Nixery.Core.Errors;
using Nixery.Core.Names;
using Nixery.Core.Queue;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.Core.Telemetry;

namespace Nixery.Functions.Builds;

public sealed class BuildCoordinator(
    RegistryStore store,
    BuildLedger ledger,
    IBuildQueue queue,
    BuildEvents events,
    BuildWaitOptions wait,
    TimeProvider time,
    StorageHealth health,
    PackageIndexCache indexes,
    BuildAdmission admission,
    ILogger<BuildCoordinator> logger)
{
    /// <summary>How often a waiting request re-reads storage (for builds in other processes).</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>How far past the wait's end one storage read may run before it is given up.</summary>
    public static readonly TimeSpan ReadGrace = TimeSpan.FromSeconds(0.5);

    /// <summary>The image record of a built image; builds it first if needed. Throws a
    /// RegistryException with the answer the client should get otherwise.</summary>
    /// <param name="resolved">The package source at the revision the request's tag stands for.</param>
    /// <param name="client">Who asks (ClientKey), for the limits per client; null: none apply.</param>
    public async Task<ImageRecord> GetOrBuildAsync(ImageRequest image, PackageSource resolved, string? client, CancellationToken ct)
    {
        // The wait is counted from the request's arrival here, so time spent on the first
        // reads is part of it, not added to it.
        var deadline = time.GetUtcNow() + wait.BuildWait;
        // The same end on the real clock, past which no storage read of the wait may run.
        var readsEnd = Stopwatch.GetTimestamp() + (long)((wait.BuildWait + ReadGrace).TotalSeconds * Stopwatch.Frequency);
        var key = ImageKeys.For(image, resolved);
        if (await store.GetImageAsync(key, ct) is { } built)
        {
            return built;
        }

        var status = await ledger.GetAsync(key, ct);
        if (status is { State: BuildState.Failed } && !ledger.IsStale(status))
        {
            throw Failure(image, status);
        }

        // The wait is timed from before the claim, and so is its first poll: a test's
        // FakeTimeProvider, moved once the job is enqueued, finds that delay to fire.
        var extended = wait.BuildWait <= TimeSpan.Zero; // a wait of 0 asks for an answer at once
        var poll = extended ? Task.CompletedTask : Task.Delay(wait.BuildWait < PollInterval ? wait.BuildWait : PollInterval, time, ct);
        if (status is null || ledger.IsStale(status))
        {
            await RefuseUnknownPackagesAsync(image, resolved, ct);
            if (client is null)
            {
                await ClaimAndEnqueueAsync(image, resolved, key, ct);
            }
            else
            {
                await admission.AdmitAsync(client, key, ct);
                var enqueued = false;
                try
                {
                    enqueued = await ClaimAndEnqueueAsync(image, resolved, key, ct);
                }
                finally
                {
                    // Another request claimed it (or storage failed): this one holds no slot.
                    admission.Claimed(client, key, enqueued);
                }
            }
        }

        // Wait for the outcome: woken at once by this process's worker, else by polling
        // storage (a worker elsewhere). The window is checked on every pass: a delay on an
        // already-cancelled token completes at once, so the loop must not rely on it throwing.
        while (true)
        {
            var settled = events.WhenSettled(key);
            if (await ReadWithinAsync(c => store.GetImageAsync(key, c), readsEnd, ct) is { } done)
            {
                return done;
            }

            var current = await ReadWithinAsync(c => ledger.GetAsync(key, c), readsEnd, ct);
            if (current is { State: BuildState.Failed } failed && !ledger.IsStale(failed))
            {
                throw Failure(image, failed);
            }

            if (current is { State: BuildState.Queued or BuildState.Building } && ledger.IsStale(current))
            {
                logger.LogWarning("build of {Image} {JobId} {ImageKey} is stale ({State}, last heartbeat {Heartbeat}, updated {Updated}); enqueueing it again", image.Name, current.Job, key, current.State, current.Heartbeat, current.Updated);
                await ClaimAndEnqueueAsync(image, resolved, key, ct);
            }

            var now = time.GetUtcNow();
            var left = deadline - now;
            if (left <= TimeSpan.Zero)
            {
                var decision = AtDeadline(current, now, wait.RetryAfterSeconds, extended);
                if (decision.WaitMore is { } more)
                {
                    logger.LogInformation("image {Image} is nearly built ({Ready}/{Total} layers); waiting {More} more", image.Name, current?.LayersReady, current?.LayersTotal, more);
                    deadline = now + more;
                    readsEnd = Stopwatch.GetTimestamp() + (long)((more + ReadGrace).TotalSeconds * Stopwatch.Frequency);
                    extended = true;
                    continue;
                }

                // The build may have ended since the image was last looked for.
                if (await ReadWithinAsync(c => store.GetImageAsync(key, c), readsEnd, ct) is { } finished)
                {
                    return finished;
                }

                logger.LogInformation("image {Image} still building after {Wait}; answering 429 with Retry-After {RetryAfter}", image.Name, wait.BuildWait, decision.RetryAfterSeconds);
                throw new RegistryException(
                    ErrorCode.TooManyRequests,
                    $"image {image.Name} is being built; retry in a few seconds",
                    new Dictionary<string, string> { ["Retry-After"] = decision.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            }

            if (poll.IsCompleted)
            {
                poll = Task.Delay(left < PollInterval ? left : PollInterval, time, ct);
            }

            await Task.WhenAny(settled, poll);
            ct.ThrowIfCancellationRequested();
        }
    }

    /// <summary>The time a build still needs, from its own progress: the time per ready layer
    /// so far times the layers left. Null without progress (not packing yet, or no layer ready).</summary>
    public static TimeSpan? EstimateLeft(BuildStatus? status, DateTimeOffset now)
    {
        if (status is not { State: BuildState.Building, LayersReady: { } ready and > 0, LayersTotal: { } total, PackingSince: { } since } || ready > total)
        {
            return null;
        }

        var elapsed = now > since ? now - since : TimeSpan.Zero;
        return elapsed * (total - ready) / ready;
    }

    /// <summary>What a request whose wait is over does with a build still running: wait
    /// <paramref name="retryAfterSeconds"/> more when the build is estimated to end within it
    /// (once: <paramref name="extended"/>), else answer 429 with the estimated seconds left,
    /// from 1 to <paramref name="retryAfterSeconds"/> (that many without an estimate).</summary>
    public static WaitDecision AtDeadline(BuildStatus? status, DateTimeOffset now, int retryAfterSeconds, bool extended)
    {
        var retryAfter = TimeSpan.FromSeconds(retryAfterSeconds);
        var estimate = EstimateLeft(status, now);
        if (estimate is not { } left)
        {
            return new WaitDecision(null, retryAfterSeconds);
        }

        if (!extended && left <= retryAfter)
        {
            return new WaitDecision(retryAfter, retryAfterSeconds);
        }

        return new WaitDecision(null, (int)Math.Clamp(Math.Ceiling(left.TotalSeconds), 1, retryAfterSeconds));
    }

    /// <summary>One storage read of the wait, cut off at <paramref name="readsEnd"/> (a Stopwatch
    /// timestamp: the wait's end plus ReadGrace, on the real clock) and not begun after it; an
    /// outage or a read cut off is null (no news), reported to StorageHealth once per change of
    /// state. So hung reads never add up past the wait's end.</summary>
    private async Task<T?> ReadWithinAsync<T>(Func<CancellationToken, Task<T?>> read, long readsEnd, CancellationToken ct)
        where T : class
    {
        var left = TimeSpan.FromSeconds((double)(readsEnd - Stopwatch.GetTimestamp()) / Stopwatch.Frequency);
        if (left <= TimeSpan.Zero)
        {
            return null;
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(left);
        try
        {
            return await read(bounded.Token);
        }
        catch (Exception e) when (health.IsOutage(e, ct))
        {
            health.ReportFault(e);
            return null;
        }
    }

    /// <summary>Throws 404 MANIFEST_UNKNOWN naming the packages the source's index lacks (none
    /// when it has no index yet): the answer a build would end with, without the build.</summary>
    private async Task RefuseUnknownPackagesAsync(ImageRequest image, PackageSource resolved, CancellationToken ct)
    {
        var unknown = await indexes.UnknownAsync(image, resolved, ct);
        if (unknown.Count == 0)
        {
            return;
        }

        logger.LogInformation("refused {Image}: the package index of {Kind} {Revision} has no {Missing}", image.Name, resolved.Kind, resolved.Revision, string.Join(", ", unknown));
        throw new RegistryException(
            ErrorCode.ManifestUnknown,
            $"packages not found: {string.Join(", ", unknown)}; the package set at revision {resolved.Revision} has no such attribute (search its packages on this registry's page /)",
            detail: new Dictionary<string, IReadOnlyList<string>> { ["missing"] = unknown });
    }

    /// <summary>True when this call claimed the build and enqueued its job.</summary>
    private async Task<bool> ClaimAndEnqueueAsync(ImageRequest image, PackageSource resolved, string key, CancellationToken ct)
    {
        var jobId = Guid.NewGuid().ToString("N");
        if (!await ledger.ClaimAsync(key, jobId, ct))
        {
            return false;
        }

        // The producer span of the build's trace: the job carries its traceparent to the worker.
        using var enqueue = RegistryTelemetry.Source.StartActivity("enqueue build", ActivityKind.Producer);
        enqueue?.SetTag("nixery.image", image.Name).SetTag("nixery.job", jobId).SetTag("messaging.destination.name", queue.Name);
        var job = new BuildJob(BuildJob.CurrentVersion, jobId, key, image, resolved, time.GetUtcNow(), RegistryTelemetry.CurrentTraceParent());
        await queue.EnqueueAsync(job, ct);
        logger.LogInformation("enqueued build of {Image} {JobId} {ImageKey} on {Queue}", image.Name, job.JobId, key, queue.Name);
        return true;
    }

    private static RegistryException Failure(ImageRequest image, BuildStatus status)
    {
        if (status.Missing is { Count: > 0 } missing)
        {
            return new RegistryException(
                ErrorCode.ManifestUnknown,
                $"packages not found: {string.Join(", ", missing)}",
                detail: new Dictionary<string, IReadOnlyList<string>> { ["missing"] = missing });
        }

        var detail = status.LogTail is { Count: > 0 } log ? new Dictionary<string, IReadOnlyList<string>> { ["log"] = log } : null;
        var message = $"image {image.Name} could not be built: {status.Reason}";
        var quoted = QuotedLog(status.Reason ?? "", status.LogTail ?? []);
        return new RegistryException(
            ErrorCode.ManifestUnknown,
            quoted.Count == 0 ? message : $"{message}; last lines of the log: {string.Join(" | ", quoted)}",
            detail: detail);
    }

    /// <summary>The end of the build log, for the message itself: clients print the message
    /// and never the detail (skopeo, podman and docker print "manifest unknown: &lt;message&gt;"),
    /// so what a user needs to act on must be in it. Lines the reason already quotes (Nix's
    /// "error: builder for '…drv' failed …") are left out. One line, " | " between log lines:
    /// skopeo's logger escapes newlines and kubelet events are single lines.</summary>
    private static List<string> QuotedLog(string reason, IReadOnlyList<string> log)
    {
        const int Lines = 5, Length = 200;
        return log
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !reason.Contains(l.StartsWith("error: ", StringComparison.Ordinal) ? l["error: ".Length..] : l, StringComparison.Ordinal))
            .TakeLast(Lines)
            .Select(l => l.Length <= Length ? l : l[..(Length - 1)] + "…")
            .ToList();
    }
}

/// <param name="WaitMore">Keep waiting this much longer; null: answer 429 now.</param>
/// <param name="RetryAfterSeconds">The Retry-After of that 429.</param>
public readonly record struct WaitDecision(TimeSpan? WaitMore, int RetryAfterSeconds);
