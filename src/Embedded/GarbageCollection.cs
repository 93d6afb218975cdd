// The garbage collector in the embedded default (issue 13.4): every NIXERY_GC_INTERVAL on the
// injected clock (PeriodicTimer, so a test's FakeTimeProvider drives it), the first one an
// interval after start-up, so that a restart loop cannot collect over and over. Nothing when
// NIXERY_RETENTION is 0. A failed collection (storage gone) is logged and tried at the next tick;
// the collector's order of deletes leaves storage consistent wherever it stopped.
// The timer starts in StartAsync, not in ExecuteAsync: .NET 10 runs ExecuteAsync on another
// thread after StartAsync returns, and an interval counted from then would start late.
using Nixery.Core.Collection;

namespace Nixery.Embedded;

public sealed class GarbageCollection(GarbageCollector collector, CollectionOptions options, TimeProvider time, ILogger<GarbageCollection> logger) : BackgroundService
{
    private PeriodicTimer? _every;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Enabled)
        {
            _every = new PeriodicTimer(options.Interval, time);
        }

        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _every?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_every is not { } every)
        {
            return;
        }

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
