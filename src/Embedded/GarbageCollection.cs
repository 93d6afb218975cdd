// The garbage collector in the embedded default (issue 13.4): every NIXERY_GC_INTERVAL on the
// injected clock (PeriodicTimer, so a test's FakeTimeProvider drives it), the first one an
// interval after start-up, so that a restart loop cannot collect over and over. Nothing when
// NIXERY_RETENTION is 0. A failed collection (storage gone) is logged and tried at the next tick;
// the collector's order of deletes leaves storage consistent wherever it stopped.
using Nixery.Core.Collection;

namespace Nixery.Embedded;

public sealed class GarbageCollection(GarbageCollector collector, CollectionOptions options, TimeProvider time, ILogger<GarbageCollection> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Enabled)
        {
            return;
        }

        using var every = new PeriodicTimer(options.Interval, time);
        try
        {
            while (await every.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await collector.CollectAsync(dryRun: false, stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "garbage collection failed; trying again in {Interval}", options.Interval);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
