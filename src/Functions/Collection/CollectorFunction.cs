// The garbage collector on Azure (issue 13.4): a timer-triggered function of the HTTP app, which
// has the storage and the collector and no Nix, so a collection costs no worker replica.
// The schedule is fixed here, hourly at minute 17 (NCRONTAB with seconds, as the Timer trigger
// reads it): a binding expression such as %NIXERY_GC_SCHEDULE% would stop the host from loading
// the function wherever the setting is missing, and a setting cannot give it a default. The
// host runs one invocation at a time across all instances (the Timer trigger takes a blob lease
// in AzureWebJobsStorage), so two collections never overlap; a missed one is not made up
// (UseMonitor keeps the schedule's state; RunOnStartup stays off, so a scale-out does not collect).
// With NIXERY_RETENTION unset or 0 it does nothing.
using Microsoft.Azure.Functions.Worker;
using Nixery.Core.Collection;

namespace Nixery.Functions.Collection;

public sealed class CollectorFunction(GarbageCollector collector, CollectionOptions options)
{
    public const string Schedule = "0 17 * * * *";

    [Function("collect-garbage")]
    public async Task RunAsync([TimerTrigger(Schedule)] TimerInfo timer, CancellationToken cancellationToken)
    {
        if (options.Enabled)
        {
            await collector.CollectAsync(dryRun: false, cancellationToken);
        }
    }
}
