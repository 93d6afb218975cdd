// The embedded default's worker loop: NIXERY_WORKERS loops take jobs from the in-process
// queue and hand each to the BuildJobRunner. A job whose build threw goes back on the queue
// until NIXERY_MAX_DEQUEUE deliveries (the runner fails the image on the last one); on
// shutdown the build in hand is cancelled and its job handed back (status stays "building";
// the next process re-enqueues it on the next pull, since the in-process queue dies with
// this one). On Azure the same runner is called by the build function's queue trigger
// instead (src/Worker), and the Functions host settles deliveries.
//
// While the storage cannot be reached, a loop waits before it takes the next job, probing
// with backoff (StorageHealth.WaitUntilReachableAsync: one log line when the storage goes and
// one when it is back), rather than burning the job's deliveries on builds that cannot write;
// a build that fails on a storage outage says so in one line, not a stack trace.
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Nixery.Core.Queue;
using Nixery.Core.Storage;

namespace Nixery.Builder.Worker;

public sealed record WorkerOptions(int Concurrency, int MaxDequeueCount);

public sealed class BuildWorker(
    InProcessQueue queue,
    BuildJobRunner runner,
    BuildEvents events,
    WorkerOptions options,
    StorageHealth health,
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
            InProcessQueue.Lease lease;
            try
            {
                await health.WaitUntilReachableAsync(stoppingToken);
                lease = await queue.ReceiveAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await HandleAsync(lease, stoppingToken);
        }
    }

    public async Task HandleAsync(InProcessQueue.Lease lease, CancellationToken stoppingToken)
    {
        var job = lease.Job;
        try
        {
            // Nothing outlives this process, so a poisoned job is simply dropped: its status says why.
            await runner.RunAsync(job, lease.DequeueCount, options.MaxDequeueCount, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            logger.LogInformation("returning job {JobId} of {Image} to the queue on shutdown", job.JobId, job.Image.Name);
            await lease.AbandonAsync();
        }
        catch (Exception e) when (lease.DequeueCount < options.MaxDequeueCount)
        {
            await lease.AbandonAsync();
            // A network error may be a package source's as well as the storage's: a probe of
            // the storage says which (and logs the change of state if it is the storage).
            if (health.IsOutage(e, stoppingToken) && !await health.CheckAsync(CancellationToken.None))
            {
                logger.LogInformation("build {JobId} of {Image} stopped by a storage outage; it runs again once the storage answers", job.JobId, job.Image.Name);
            }
        }
        catch (Exception)
        {
            // The runner failed the image on this last delivery; the job is dropped.
        }
        finally
        {
            events.Settled(job.ImageKey);
        }
    }
}
