// The worker loop: take a job, build it, record how it went, settle the job. Runs
// NIXERY_WORKERS loops at once. A build that throws (storage down, a bug) is recorded as
// failed with the reason rather than retried in a tight loop; the failure is remembered
// for NIXERY_FAILURE_TTL, after which a pull tries again. On shutdown the job in hand is
// given back to the queue, and its status stays "building" until it goes stale.
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nixery.Builder.Images;
using Nixery.Core.Queue;
using Nixery.Core.Storage;

namespace Nixery.Builder.Worker;

public sealed record WorkerOptions(int Concurrency);

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
            BuildOutcome outcome;
            if (job.Version != BuildJob.CurrentVersion)
            {
                outcome = new ImageFailed($"build job version {job.Version} is not understood by this worker (it reads version {BuildJob.CurrentVersion})", null, null);
            }
            else
            {
                await store.SetStatusAsync(job.ImageKey, new BuildStatus(BuildState.Building, time.GetUtcNow()), stoppingToken);
                outcome = await builder.BuildAsync(job, stoppingToken);
            }

            var status = outcome switch
            {
                ImageBuilt => new BuildStatus(BuildState.Done, time.GetUtcNow()),
                ImageFailed f => new BuildStatus(BuildState.Failed, time.GetUtcNow(), f.Reason, f.Missing, f.LogTail),
                _ => throw new InvalidOperationException($"unknown build outcome {outcome}"),
            };
            if (outcome is ImageFailed failed)
            {
                logger.LogWarning("build of {Image} {JobId} failed: {Reason}", job.Image.Name, job.JobId, failed.Reason);
            }

            await store.SetStatusAsync(job.ImageKey, status, stoppingToken);
            await lease.CompleteAsync(CancellationToken.None);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            logger.LogInformation("returning job {JobId} of {Image} to the queue on shutdown", job.JobId, job.Image.Name);
            await lease.AbandonAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogError(e, "build of {Image} {JobId} threw", job.Image.Name, job.JobId);
            await TryRecordFailureAsync(job, e);
            await lease.CompleteAsync(CancellationToken.None);
        }
        finally
        {
            events.Settled(job.ImageKey);
        }
    }

    private async Task TryRecordFailureAsync(BuildJob job, Exception e)
    {
        try
        {
            var reason = $"the build failed unexpectedly: {e.GetType().Name}: {e.Message}";
            await store.SetStatusAsync(job.ImageKey, new BuildStatus(BuildState.Failed, time.GetUtcNow(), reason), CancellationToken.None);
        }
        catch (Exception again)
        {
            logger.LogError(again, "could not record the failure of {Image}", job.Image.Name);
        }
    }
}
