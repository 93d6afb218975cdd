// What a worker does with one job, whoever delivered it: the embedded default's in-process
// loop (BuildWorker) or the build function's queue trigger (src/Worker). It builds, records
// the outcome in the job's status, and says how the delivery should be settled; the caller
// settles it the way its queue does (a lease here, the Functions host there).
//
//   built                          status done                      settle: complete
//   packages not found             status failed (the user's typo)  settle: complete
//   Nix failed (derivation, timeout) status failed                   settle: poison, with the reason:
//                                  it would fail the same way again, so no retry storm; the
//                                  failure is remembered for NIXERY_FAILURE_TTL
//   job version unknown            status failed                    settle: poison
//   the build threw (storage down)  status building + the reason    the exception propagates: the
//                                  queue delivers the job again (at-least-once)
//   threw on the last delivery     status failed ("attempted n times …")  propagates; the queue gives up
using Microsoft.Extensions.Logging;
using Nixery.Builder.Images;
using Nixery.Core.Queue;
using Nixery.Core.Storage;

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
    RegistryStore store,
    TimeProvider time,
    ILogger<BuildJobRunner> logger)
{
    /// <param name="attempt">How many times this job has been delivered, this time included.</param>
    /// <param name="maxAttempts">The delivery after which the queue gives up on a job that throws.</param>
    public async Task<JobResult> RunAsync(BuildJob job, int attempt, int maxAttempts, CancellationToken ct)
    {
        if (job.Version != BuildJob.CurrentVersion)
        {
            var reason = $"build job version {job.Version} is not understood by this worker (it reads version {BuildJob.CurrentVersion})";
            await FailAsync(job, reason, null, null, ct);
            return new JobResult(JobSettlement.Poison, reason);
        }

        try
        {
            logger.LogInformation("building {Image} {JobId}, attempt {Attempt} of {MaxAttempts}", job.Image.Name, job.JobId, attempt, maxAttempts);
            await store.SetStatusAsync(job.ImageKey, new BuildStatus(BuildState.Building, time.GetUtcNow()), ct);
            switch (await builder.BuildAsync(job, ct))
            {
                case ImageFailed f:
                    await FailAsync(job, f.Reason, f.Missing, f.LogTail, ct);
                    // Missing packages are the user's to fix, and the status says which.
                    return f.Missing is null ? new JobResult(JobSettlement.Poison, f.Reason) : new JobResult(JobSettlement.Complete);
                default:
                    await store.SetStatusAsync(job.ImageKey, new BuildStatus(BuildState.Done, time.GetUtcNow()), ct);
                    return new JobResult(JobSettlement.Complete);
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            logger.LogError(e, "attempt {Attempt} to build {Image} {JobId} threw", attempt, job.Image.Name, job.JobId);
            await RecordThrownAsync(job, attempt, maxAttempts, e);
            throw;
        }
    }

    private async Task FailAsync(BuildJob job, string reason, IReadOnlyList<string>? missing, IReadOnlyList<string>? log, CancellationToken ct)
    {
        logger.LogWarning("build of {Image} {JobId} failed: {Reason}", job.Image.Name, job.JobId, reason);
        await store.SetStatusAsync(job.ImageKey, new BuildStatus(BuildState.Failed, time.GetUtcNow(), reason, missing, log, job.Image.Name), ct);
    }

    /// <summary>Keeps the reason in the status: still "building" while the queue will try again,
    /// failed on the last attempt. Storage may be what failed, so this must not throw.</summary>
    private async Task RecordThrownAsync(BuildJob job, int attempt, int maxAttempts, Exception e)
    {
        var error = $"{e.GetType().Name}: {e.Message}";
        var status = attempt >= maxAttempts
            ? new BuildStatus(BuildState.Failed, time.GetUtcNow(), $"the build was attempted {attempt} times without finishing; last error: {error}", Image: job.Image.Name)
            : new BuildStatus(BuildState.Building, time.GetUtcNow(), $"attempt {attempt} failed: {error}");
        try
        {
            await store.SetStatusAsync(job.ImageKey, status, CancellationToken.None);
        }
        catch (Exception again)
        {
            logger.LogError(again, "could not record the failed attempt of {Image} {JobId}", job.Image.Name, job.JobId);
        }
    }
}
