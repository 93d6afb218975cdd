// One attempt at a build, as its status record and its layer leases see it. The status says
// it is alive and how far it is (BuildLedger.ProgressAsync): written when the attempt starts,
// then every BuildLedger.HeartbeatInterval (5 s) on a timer for as long as the attempt runs —
// through source checkout and Nix, which write nothing else for minutes — and, while layers
// are packed, when packing starts, at most once a second as layers become ready (in the
// background: no layer waits for it), and when the last one is. The HTTP side estimates the time left from the progress, and takes a heartbeat
// older than 3 beats for a dead attempt and enqueues the build again (BuildCoordinator). A
// write that fails costs only the estimate (or, if storage stays down for three beats, a
// second job, which the ledger's job id tells to stop), never the build.
//
// The attempt is also the owner of the layer leases it takes (LayerCache.OwnerFor): its image
// key, job id and start, in this process, so a later attempt of the same image, or anyone
// after this process is gone, takes them over at once (StorageLease).
using Microsoft.Extensions.Logging;
using Nixery.Core.Builds;
using Nixery.Core.Queue;
using Nixery.Core.Storage;

namespace Nixery.Builder.Images;

public sealed class BuildAttempt : IAsyncDisposable
{
    private static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    private readonly BuildLedger _ledger;
    private readonly BuildJob _job;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private bool _stopped;
    private ITimer? _heartbeat;
    private DateTimeOffset _lastWrite = DateTimeOffset.MinValue;
    private DateTimeOffset? _packingSince;
    private int _total;
    private int _ready;
    private long _bytes;

    public BuildAttempt(BuildLedger ledger, BuildJob job, TimeProvider time, ILogger logger)
    {
        _ledger = ledger;
        _job = job;
        _time = time;
        _logger = logger;
        LeaseOwner = LayerCache.OwnerFor(job.ImageKey, job.JobId, time.GetUtcNow());
    }

    /// <summary>The owner of the layer leases this attempt takes.</summary>
    public LeaseOwner LeaseOwner { get; }

    /// <summary>Building (BuildLedger.StartAsync), then a heartbeat every HeartbeatInterval until
    /// disposed. Throws if the first write fails: a build that cannot say it runs does not start.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        await _ledger.StartAsync(_job.ImageKey, _job.JobId, _job.Image.Name, ct);
        _lastWrite = _time.GetUtcNow();
        _heartbeat = _time.CreateTimer(_ => _ = BeatAsync(), null, BuildLedger.HeartbeatInterval, BuildLedger.HeartbeatInterval);
    }

    /// <summary>Packing begins: <paramref name="total"/> layers, none ready.</summary>
    public Task PackingAsync(int total, CancellationToken ct)
    {
        Volatile.Write(ref _total, total);
        Volatile.Write(ref _ready, 0);
        Interlocked.Exchange(ref _bytes, 0);
        _packingSince = _time.GetUtcNow();
        return WriteAsync(force: true, ct);
    }

    /// <summary>One more layer is ready. The last one's write is awaited; any other layer's is
    /// started only when no write is in flight and the last is a second old, and is not waited
    /// for: a layer never waits on the status (issue 16: under slow storage, layers queued
    /// behind each other's status writes), and a count it skips is carried by the next write,
    /// which reads the count when it is made. DisposeAsync still waits for a write in flight.</summary>
    public Task LayerReadyAsync(BuiltLayer layer, CancellationToken ct)
    {
        Interlocked.Add(ref _bytes, layer.Size);
        if (Interlocked.Increment(ref _ready) == Volatile.Read(ref _total))
        {
            return WriteAsync(force: true, ct);
        }

        if (_time.GetUtcNow() - _lastWrite < MinInterval || !_writing.Wait(0, CancellationToken.None))
        {
            return Task.CompletedTask;
        }

        _ = WriteHeldAsync(force: false, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Stops the heartbeat and waits for a write in flight, so that nothing of this
    /// attempt lands after the status the runner writes next (done, failed, retry).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_heartbeat is not null)
        {
            await _heartbeat.DisposeAsync();
        }

        // A beat the timer fired before it stopped holds the gate until its write is done.
        await _writing.WaitAsync();
        _stopped = true;
        _writing.Release();
    }

    private async Task BeatAsync()
    {
        try
        {
            await WriteAsync(force: true, CancellationToken.None);
        }
        catch (ObjectDisposedException)
        {
            // Stopped meanwhile: the runner writes the outcome.
        }
    }

    private async Task WriteAsync(bool force, CancellationToken ct)
    {
        await _writing.WaitAsync(ct);
        await WriteHeldAsync(force, ct);
    }

    /// <summary>The write, with the gate already held by the caller; releases it.</summary>
    private async Task WriteHeldAsync(bool force, CancellationToken ct)
    {
        try
        {
            var now = _time.GetUtcNow();
            if (_stopped || (!force && now - _lastWrite < MinInterval))
            {
                return;
            }

            // The count now, not the one this call was made with: writes never go backwards.
            var progress = _packingSince is { } since ? new LayerProgress(Volatile.Read(ref _ready), Volatile.Read(ref _total), since, Interlocked.Read(ref _bytes)) : null;
            await _ledger.ProgressAsync(_job.ImageKey, _job.JobId, progress, _job.Image.Name, ct);
            _lastWrite = now;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "could not record the progress of {Image} {JobId} {ImageKey}", _job.Image.Name, _job.JobId, _job.ImageKey);
        }
        finally
        {
            _writing.Release();
        }
    }
}
