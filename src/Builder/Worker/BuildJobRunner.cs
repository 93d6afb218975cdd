// What a worker does with one job, whoever delivered it: the embedded default's in-process
// loop (BuildWorker) or the build function's queue trigger (src/Worker). It builds, moves the
// job's status on through the build ledger (Core/Builds/BuildLedger.cs, where the states are
// written up), and says how the delivery should be settled; the caller settles it the way its
// queue does (a lease here, the Functions host there).
//
//   superseded: the status names   nothing written                  settle: complete
//   another job (enqueued again    (a delivery of the old job after the visibility timeout, or
//   when this one looked dead)     while the new one runs: the ledger's job id says stop)
//   taken                          status building (Start), a heartbeat every 5 s (BuildAttempt)
//   built                          status done                      settle: complete
//   packages not found             status failed (the user's typo)  settle: complete
//   Nix failed (derivation, timeout) status failed                   settle: poison, with the reason:
//                                  it would fail the same way again, so no retry storm; the
//                                  failure is remembered for NIXERY_FAILURE_TTL
//   job version unknown            status failed                    settle: poison
//   the storage went down          nothing written                  waits for the storage, then
//   (a probe fails too)            builds again in this delivery (up to 10 outages a delivery)
//   the build threw (otherwise)     status building + the reason    the exception propagates: the
//                                  queue delivers the job again (at-least-once)
//   threw on the last delivery     status failed ("attempted n times …")  propagates; the queue gives up
//
// Each delivery that builds is a "build" span continuing the enqueuing request's trace
// (BuildJob.TraceParent) and counts in nixery.builds and nixery.build.duration by outcome
// (Core/Telemetry/RegistryTelemetry.cs); the first also records its queue wait.
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Nixery.Builder.Images;
using Nixery.Core.Builds;
using Nixery.Core.Queue;
using Nixery.Core.Storage;
using Nixery.Core.Telemetry;

namespace Nixery.Builder.Worker;

/// <summary>How the delivery of a job is settled once the runner has recorded the outcome.</summary>
public enum JobSettlement
{
    /// <summary>Done with it (built, or failed in a way a retry cannot mend and the user can).</summary>
    Complete,

    /// <summary>Failed for good: off to the poison queue with the reason, never retried.</summary>
    Poison,
}

public sealed record JobResult(JobSettlement Settlement, string? Reason = null);

public sealed class BuildJobRunner(
    ImageBuilder builder,
    BuildLedger ledger,
    TimeProvider time,
    ILogger<BuildJobRunner> logger,
    StorageHealth? health = null)
{
    /// <param name="attempt">How many times this job has been delivered, this time included.</param>
    /// <param name="maxAttempts">The delivery after which the queue gives up on a job that throws.</param>
    public async Task<JobResult> RunAsync(BuildJob job, int attempt, int maxAttempts, CancellationToken ct)
    {
        if (job.Version != BuildJob.CurrentVersion)
        {
            var reason = $"build job version {job.Version} is not understood by this worker (it reads version {BuildJob.CurrentVersion})";
            await FailAsync(job, new BuildFailure(job.Image.Name, reason), ct);
            return new JobResult(JobSettlement.Poison, reason);
        }

        for (var outages = 0; ; outages++)
        {
            try
            {
                return await BuildAsync(job, attempt, maxAttempts, firstRun: outages == 0, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && health is not null && outages < MaxOutagesPerDelivery && health.IsOutage(e, ct))
            {
                // A storage outage is no fault of the build: rather than spend a delivery on it
                // (three, and the image is failed), wait here for the storage and build again in
                // this delivery — the queue keeps the message invisible while the function runs
                // (the host renews it; the in-process queue holds it). The attempt after takes
                // over the leases this one left (StorageLease: a later attempt of the same build).
                if (await health.CheckAsync(CancellationToken.None))
                {
                    // Not the storage (a package source's network, say): the queue retries.
                    await ThrownAsync(job, attempt, maxAttempts, e);
                    throw;
                }

                logger.LogInformation("build {JobId} of {Image} stopped by a storage outage; it runs again in this delivery once the storage answers", job.JobId, job.Image.Name);
                await health.WaitUntilReachableAsync(ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                await ThrownAsync(job, attempt, maxAttempts, e);
                throw;
            }
        }
    }

    /// <summary>Storage outages a delivery waits out before it lets the queue retry instead:
    /// a bound on a storage that keeps flapping, not a limit a single outage meets.</summary>
    private const int MaxOutagesPerDelivery = 10;

    private async Task ThrownAsync(BuildJob job, int attempt, int maxAttempts, Exception e)
    {
        logger.LogError(e, "attempt {Attempt} to build {Image} {JobId} threw", attempt, job.Image.Name, job.JobId);
        await RecordThrownAsync(job, attempt, maxAttempts, e);
    }

    /// <param name="firstRun">The first run of this delivery (not one after a storage outage).</param>
    private async Task<JobResult> BuildAsync(BuildJob job, int attempt, int maxAttempts, bool firstRun, CancellationToken ct)
    {
        if (await ledger.GetAsync(job.ImageKey, ct) is { Job: { } current } && current != job.JobId)
        {
            logger.LogInformation("job {JobId} of {Image} is superseded by job {CurrentJobId}; not building", job.JobId, job.Image.Name, current);
            return new JobResult(JobSettlement.Complete);
        }

        logger.LogInformation("building {Image} {JobId}, attempt {Attempt} of {MaxAttempts}", job.Image.Name, job.JobId, attempt, maxAttempts);
        using var span = RegistryTelemetry.StartBuild(job.TraceParent);
        span?.SetTag("nixery.image", job.Image.Name).SetTag("nixery.job", job.JobId).SetTag("nixery.attempt", attempt);
        var started = Stopwatch.GetTimestamp();
        if (job.Enqueued is { } enqueued && attempt == 1 && firstRun)
        {
            RegistryTelemetry.QueueWait.Record(Math.Max(0, (time.GetUtcNow() - enqueued).TotalSeconds));
        }

        try
        {
            BuildOutcome outcome;
            await using (var running = new BuildAttempt(ledger, job, time, logger))
            {
                await running.StartAsync(ct);
                outcome = await builder.BuildAsync(job, running, ct);
            }

            switch (outcome)
            {
                case ImageFailed f:
                    await FailAsync(job, new BuildFailure(job.Image.Name, f.Reason, f.Missing, f.LogTail), ct);
                    Ended(span, started, "failed");
                    // Missing packages are the user's to fix, and the status says which.
                    return f.Missing is null ? new JobResult(JobSettlement.Poison, f.Reason) : new JobResult(JobSettlement.Complete);
                case ImageBuilt:
                    await ledger.SucceedAsync(job.ImageKey, job.JobId, job.Image.Name, ct);
                    Ended(span, started, "built");
                    return new JobResult(JobSettlement.Complete);
                case var other:
                    throw new UnreachableException($"a build ended as {other.GetType().Name}");
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            Ended(span, started, "threw");
            throw;
        }
    }

    /// <summary>The build's outcome on its span and in the build metrics.</summary>
    private static void Ended(Activity? span, long started, string outcome)
    {
        span?.SetTag("nixery.outcome", outcome);
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        RegistryTelemetry.Builds.Add(1, tag);
        RegistryTelemetry.BuildDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tag);
    }

    private async Task FailAsync(BuildJob job, BuildFailure failure, CancellationToken ct)
    {
        logger.LogWarning("build of {Image} {JobId} failed: {Reason}", job.Image.Name, job.JobId, failure.Reason);
        await ledger.FailAsync(job.ImageKey, job.JobId, failure, ct);
    }

    /// <summary>Keeps the reason in the status: still "building" while the queue will try again,
    /// failed on the last attempt. Storage may be what failed, so this must not throw.</summary>
    private async Task RecordThrownAsync(BuildJob job, int attempt, int maxAttempts, Exception e)
    {
        var error = $"{e.GetType().Name}: {e.Message}";
        try
        {
            await (attempt >= maxAttempts
                ? ledger.FailAsync(job.ImageKey, job.JobId, new BuildFailure(job.Image.Name, $"the build was attempted {attempt} times without finishing; last error: {error}"), CancellationToken.None)
                : ledger.RetryAsync(job.ImageKey, job.JobId, $"attempt {attempt} failed: {error}", CancellationToken.None));
        }
        catch (Exception again)
        {
            logger.LogError(again, "could not record the failed attempt of {Image} {JobId}", job.Image.Name, job.JobId);
        }
    }
}
