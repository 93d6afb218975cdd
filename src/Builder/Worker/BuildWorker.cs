// The worker loop: take a job, build it, record how it went, settle the job. Runs
// NIXERY_WORKERS loops at once. What happens to a job:
//
//   built                          status done, job completed
//   packages not found             status failed (the user's typo), job completed
//   Nix failed (derivation, timeout) status failed, job dead-lettered with the reason:
//                                  it will fail the same way again, so no retry storm; the
//                                  failure is remembered for NIXERY_FAILURE_TTL
//   the build threw (storage down)  job abandoned, so it runs again (at-least-once queue)
//   handed out > NIXERY_MAX_DEQUEUE status failed, job dead-lettered: workers keep dying on it
//   worker shutting down           job abandoned, status stays "building" until a worker
//                                  takes the job again
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nixery.Builder.Images;
using Nixery.Core.Queue;
using Nixery.Core.Storage;

namespace Nixery.Builder.Worker;

public sealed record WorkerOptions(int Concurrency, int MaxDequeueCount);

public sealed class BuildWorker(
    IBuildQueue queue,
    ImageBuilder builder,
    RegistryStore store,
    BuildEvents events,
    WorkerOptions options,
    TimeProvider time,
    ILogger<BuildWorker> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("worker started on {Queue} with {Concurrency} builds at once", queue.Name, options.Concurrency);
        return Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(() => LoopAsync(stoppingToken), CancellationToken.None)));
    }

    private async Task LoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            IBuildLease lease;
            try
            {
                lease = await queue.ReceiveAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await HandleAsync(lease, stoppingToken);
        }
    }

    public async Task HandleAsync(IBuildLease lease, CancellationToken stoppingToken)
    {
        var job = lease.Job;
        try
        {
            if (lease.DequeueCount > options.MaxDequeueCount)
            {
                var previous = await store.GetStatusAsync(job.ImageKey, stoppingToken);
                var reason = $"the build was attempted {lease.DequeueCount - 1} times without finishing"
                    + (previous?.Reason is { } last ? $"; last error: {last}" : "");
                await FailAsync(lease, reason, null, null, deadLetter: true, stoppingToken);
                return;
            }

            if (job.Version != BuildJob.CurrentVersion)
            {
                var reason = $"build job version {job.Version} is not understood by this worker (it reads version {BuildJob.CurrentVersion})";
                await FailAsync(lease, reason, null, null, deadLetter: true, stoppingToken);
                return;
            }

            await store.SetStatusAsync(job.ImageKey, new BuildStatus(BuildState.Building, time.GetUtcNow()), stoppingToken);
            switch (await builder.BuildAsync(job, stoppingToken))
            {
                case ImageBuilt:
                    await store.SetStatusAsync(job.ImageKey, new BuildStatus(BuildState.Done, time.GetUtcNow()), stoppingToken);
                    await lease.CompleteAsync(CancellationToken.None);
                    break;
                case ImageFailed f:
                    await FailAsync(lease, f.Reason, f.Missing, f.LogTail, deadLetter: f.Missing is null, stoppingToken);
                    break;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            logger.LogInformation("returning job {JobId} of {Image} to the queue on shutdown", job.JobId, job.Image.Name);
            await lease.AbandonAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogError(e, "attempt {Attempt} to build {Image} {JobId} threw", lease.DequeueCount, job.Image.Name, job.JobId);
            await RetryLaterAsync(lease, e);
        }
        finally
        {
            events.Settled(job.ImageKey);
        }
    }

    private async Task FailAsync(IBuildLease lease, string reason, IReadOnlyList<string>? missing, IReadOnlyList<string>? log, bool deadLetter, CancellationToken ct)
    {
        var job = lease.Job;
        logger.LogWarning("build of {Image} {JobId} failed: {Reason}", job.Image.Name, job.JobId, reason);
        await store.SetStatusAsync(job.ImageKey, new BuildStatus(BuildState.Failed, time.GetUtcNow(), reason, missing, log, job.Image.Name), ct);
        if (deadLetter)
        {
            await lease.DeadLetterAsync(reason, CancellationToken.None);
        }
        else
        {
            await lease.CompleteAsync(CancellationToken.None);
        }
    }

    /// <summary>Keeps the reason in the status (still "building": a worker will try again) and
    /// gives the job back. Storage may be what failed, so neither step may throw.</summary>
    private async Task RetryLaterAsync(IBuildLease lease, Exception e)
    {
        var reason = $"attempt {lease.DequeueCount} failed: {e.GetType().Name}: {e.Message}";
        try
        {
            await store.SetStatusAsync(lease.Job.ImageKey, new BuildStatus(BuildState.Building, time.GetUtcNow(), reason), CancellationToken.None);
        }
        catch (Exception again)
        {
            logger.LogError(again, "could not record the failed attempt of {Image} {JobId}", lease.Job.Image.Name, lease.Job.JobId);
        }

        try
        {
            await lease.AbandonAsync(CancellationToken.None);
        }
        catch (Exception again)
        {
            // The job comes back by itself when its lease expires.
            logger.LogError(again, "could not return job {JobId} to the queue", lease.Job.JobId);
        }
    }
}
