// Deletes uploads left in staging/ by a worker that died mid-upload. Nothing ever refers to
// a staging object (it is moved or copied to blobs/ under its digest, then deleted), so one
// older than the longest plausible upload is garbage. Runs in every process that writes
// storage; several sweepers at once only delete the same garbage twice.
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Nixery.Core.Storage;

public sealed record StagingSweepOptions(TimeSpan MaxAge, TimeSpan Interval);

public sealed class StagingSweeper(IStorageBackend storage, StagingSweepOptions options, TimeProvider time, ILogger<StagingSweeper> logger, StorageHealth? health = null)
    : BackgroundService
{
    /// <summary>Deletes every staging object older than MaxAge; returns how many.</summary>
    public Task<int> SweepOnceAsync(CancellationToken ct) => SweepOlderThanAsync(options.MaxAge, ct);

    /// <summary>Deletes every staging object older than <paramref name="maxAge"/> (zero: all of
    /// them, for a process that knows no upload of another is in flight); returns how many.</summary>
    public async Task<int> SweepOlderThanAsync(TimeSpan maxAge, CancellationToken ct)
    {
        var cutoff = time.GetUtcNow() - maxAge;
        var stale = new List<string>();
        await foreach (var (path, modified) in storage.ListAsync(StorageLayout.StagingPrefix, ct))
        {
            if (modified < cutoff)
            {
                stale.Add(path);
            }
        }

        foreach (var path in stale)
        {
            await storage.DeleteAsync(path, ct);
        }

        if (stale.Count > 0)
        {
            logger.LogInformation("swept {Count} stale staging uploads older than {MaxAge} from {Backend}", stale.Count, maxAge, storage.Name);
        }

        return stale.Count;
    }

    /// <summary>Sweeps at once, then every Interval on the injected clock (PeriodicTimer: a
    /// test's FakeTimeProvider drives it, and a tick that passes mid-sweep is not lost).</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var every = new PeriodicTimer(options.Interval, time);
        try
        {
            do
            {
                try
                {
                    await SweepOnceAsync(stoppingToken);
                }
                catch (Exception e) when (health is not null && health.IsOutage(e, stoppingToken))
                {
                    // Storage unreachable: said once by StorageHealth, not a stack trace a round.
                    health.ReportFault(e);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // Try again next round.
                    logger.LogWarning(e, "staging sweep of {Backend} failed", storage.Name);
                }
            }
            while (await every.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
