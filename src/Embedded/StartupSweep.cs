// The embedded default owns its storage: one process, its in-process queue and worker, and
// no other worker can build into the same folder in this mode. So whatever an earlier process
// left in flight when it died (kill -9, power loss) is garbage the moment this one starts,
// and waiting for it to age out only makes the next pull slow (issue 13: a pull after a crash
// waited ~100 s on the dead process's layer claim; its partial upload stayed in staging/):
//
//   staging/         every upload, whatever its age (the periodic StagingSweeper would wait
//                    NIXERY_STAGING_MAX_AGE)
//   layers/*.lease   every lease anyone may take over now: expired, or held by a process
//                    gone from this host (StorageLeases.SweepAsync, the lease's own rules)
//
// Build statuses need nothing here: the ledger already takes queued and building records
// written before this process started for dead (BuildLedger.IsStale, non-durable queue).
// It runs in StartAsync, and hosted services start one after another in registration order,
// so it is registered before the worker: the sweep ends before the first build starts.
using Nixery.Core.Storage;

namespace Nixery.Embedded;

public sealed class StartupSweep(StagingSweeper staging, StorageLeases leases, ILogger<StartupSweep> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var uploads = await staging.SweepOlderThanAsync(TimeSpan.Zero, cancellationToken);
            var swept = await leases.SweepAsync(StorageLayout.LayerPrefix, cancellationToken);
            logger.LogInformation("start-up sweep removed {Uploads} staging uploads and {Leases} stale layer leases", uploads, swept);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Storage unreachable at start: the periodic sweep and the leases' own expiry still apply.
            logger.LogWarning(e, "start-up sweep failed; stale uploads and leases are left to expire");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
