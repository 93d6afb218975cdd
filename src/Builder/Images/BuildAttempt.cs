// Tells waiting clients how far a build is. The image's status record carries the layers
// ready of the image's total and when packing began (BuildLedger.ProgressAsync), written when
// packing starts, then at most once a second as layers become ready, and when the last one
// is; the HTTP side estimates the time left from it (BuildCoordinator). A write that fails
// costs only the estimate, never the build.
using Microsoft.Extensions.Logging;
using Nixery.Core.Builds;

namespace Nixery.Builder.Images;

internal sealed class BuildProgress(BuildLedger ledger, string imageKey, int total, TimeProvider time, ILogger logger) : IDisposable
{
    private static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly DateTimeOffset _since = time.GetUtcNow();
    private DateTimeOffset _lastWrite = DateTimeOffset.MinValue;
    private int _ready;

    public Task StartAsync(CancellationToken ct) => WriteAsync(force: true, ct);

    public void Dispose() => _writing.Dispose();

    public Task LayerReadyAsync(CancellationToken ct) =>
        WriteAsync(force: Interlocked.Increment(ref _ready) == total, ct);

    private async Task WriteAsync(bool force, CancellationToken ct)
    {
        await _writing.WaitAsync(ct);
        try
        {
            var now = time.GetUtcNow();
            if (!force && now - _lastWrite < MinInterval)
            {
                return;
            }

            // The count now, not the one this call was made with: writes never go backwards.
            var ready = Volatile.Read(ref _ready);
            await ledger.ProgressAsync(imageKey, new LayerProgress(ready, total, _since), ct);
            _lastWrite = now;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "could not record the progress of {ImageKey}", imageKey);
        }
        finally
        {
            _writing.Release();
        }
    }
}
