// The one lease primitive: mutual exclusion between processes that share nothing but the
// storage (workers on Azure, processes on one folder), built on the backend's ETags because
// neither backend's own leases fit both (Azure blob leases last 15–60 s or forever and need
// a blob to exist; a folder has none). Layer packing uses it (LayerCache) so that two
// workers do not pack the same layer at once; anything else that needs a lock takes one here.
//
// The record at the lease's path is JSON: {"owner":"<who>","expires":"<ISO 8601>"}.
//
//   acquire   create the record (If-None-Match: *); if one is there and has expired by the
//             acquirer's clock (or cannot be read), replace it If-Match the ETag it was read
//             with, so of several racers exactly one wins (StorageRecords). The ETag of
//             what was written is read back: stat, then content — ours means that ETag is ours.
//   renew     every third of the lifetime, in the background, replace the record with a later
//             expiry If-Match the ETag of our last write. If that fails the record is gone or
//             another owner took it over after it expired: the lease is lost, Lost fires and
//             renewal stops. A renewal that throws (storage unreachable) is logged and tried
//             at the next tick; if the lease lapses meanwhile, that renewal finds it.
//   release   on dispose: stop renewing, then delete the record If-Match our ETag, so that a
//             record another owner wrote since is left alone. A failed release is logged; the
//             record expires by itself.
//
// Time and timers come from TimeProvider, so tests move a FakeTimeProvider instead of
// waiting. Holders compare expiry with their own clocks, so skew between machines shortens
// or lengthens a lease by the skew: lifetimes are minutes (NIXERY_LAYER_CLAIM_TTL), not
// seconds. Lost says "stop"; it cannot undo work in flight, so what a lease guards must be
// safe to do twice (layers are content-addressed).
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Nixery.Core.Manifests;

namespace Nixery.Core.Storage;

/// <summary>The stored form of a lease.</summary>
public sealed record LeaseRecord(
    [property: JsonPropertyName("owner")] string Owner,
    [property: JsonPropertyName("expires")] DateTimeOffset Expires);

/// <summary>Takes leases on paths of this process's storage.</summary>
public sealed class StorageLeases(IStorageBackend backend, TimeProvider time, ILogger<StorageLease> logger)
{
    /// <summary>The lease on <paramref name="path"/> for <paramref name="owner"/>, renewed until
    /// disposed; null if another owner holds it and it has not expired.</summary>
    public Task<StorageLease?> TryAcquireAsync(string path, string owner, TimeSpan lifetime, CancellationToken ct) =>
        StorageLease.TryAcquireAsync(backend, path, owner, lifetime, time, logger, ct);
}

/// <summary>A held lease. Dispose releases it.</summary>
public sealed class StorageLease : IAsyncDisposable
{
    private readonly IStorageBackend _backend;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _lost = new();
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private string _etag;
    private DateTimeOffset _expires;
    private Task _renewal = Task.CompletedTask;
    private bool _released;

    private StorageLease(IStorageBackend backend, string path, string owner, TimeSpan lifetime, LeaseRecord written, string etag, TimeProvider time, ILogger logger)
    {
        _backend = backend;
        Path = path;
        Owner = owner;
        _lifetime = lifetime;
        _expires = written.Expires;
        _etag = etag;
        _time = time;
        _logger = logger;
        // Created before the lease is handed out, so a clock moved right after acquiring is seen.
        _timer = time.CreateTimer(_ => Tick(), null, lifetime / 3, lifetime / 3);
    }

    public string Path { get; }

    public string Owner { get; }

    /// <summary>Until when the record says the lease is held (the last write that succeeded).</summary>
    public DateTimeOffset Expires
    {
        get
        {
            lock (_gate)
            {
                return _expires;
            }
        }
    }

    /// <summary>Fires when a renewal finds the lease gone or taken by another owner.</summary>
    public CancellationToken Lost => _lost.Token;

    internal static async Task<StorageLease?> TryAcquireAsync(
        IStorageBackend backend, string path, string owner, TimeSpan lifetime, TimeProvider time, ILogger logger, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        var now = time.GetUtcNow();
        var record = new LeaseRecord(owner, now + lifetime);
        var content = Serialize(record);
        if (!await backend.TryCreateOrTakeOverAsync(path, content, present => HasExpired(present, now), ct)
            || await ETagOfAsync(backend, path, content, ct) is not { } etag)
        {
            return null;
        }

        logger.LogDebug("acquired lease {Lease} for {Owner} until {Expires}", path, owner, record.Expires);
        return new StorageLease(backend, path, owner, lifetime, record, etag, time, logger);
    }

    public async ValueTask DisposeAsync()
    {
        Task renewal;
        lock (_gate)
        {
            if (_released)
            {
                return;
            }

            _released = true;
            renewal = _renewal;
        }

        await _timer.DisposeAsync();
        await renewal;
        if (!_lost.IsCancellationRequested)
        {
            try
            {
                if (!await _backend.TryDeleteAsync(Path, _etag, CancellationToken.None))
                {
                    _logger.LogInformation("lease {Lease} of {Owner} was no longer ours at release; left to its owner", Path, Owner);
                }
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "could not release lease {Lease} of {Owner}; it expires by itself at {Expires}", Path, Owner, Expires);
            }
        }

        _lost.Dispose();
    }

    private void Tick()
    {
        lock (_gate)
        {
            // One renewal at a time; none after release or loss.
            if (_released || _lost.IsCancellationRequested || !_renewal.IsCompleted)
            {
                return;
            }

            _renewal = Task.Run(RenewAsync);
        }
    }

    private async Task RenewAsync()
    {
        var record = new LeaseRecord(Owner, _time.GetUtcNow() + _lifetime);
        var content = Serialize(record);
        try
        {
            if (await _backend.TryReplaceAsync(Path, content, _etag, "application/json", CancellationToken.None)
                && await ETagOfAsync(_backend, Path, content, CancellationToken.None) is { } etag)
            {
                lock (_gate)
                {
                    _etag = etag;
                    _expires = record.Expires;
                }

                _logger.LogDebug("renewed lease {Lease} for {Owner} until {Expires}", Path, Owner, record.Expires);
                return;
            }
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "could not renew lease {Lease} of {Owner}; trying again in {Period}", Path, Owner, _lifetime / 3);
            return;
        }

        _logger.LogWarning("lost lease {Lease} of {Owner}: it was removed, or another owner took it over after it expired", Path, Owner);
        try
        {
            await _lost.CancelAsync();
        }
        catch (AggregateException e)
        {
            // A holder's Lost callback threw; the lease is lost all the same.
            _logger.LogWarning(e, "a callback on the loss of lease {Lease} threw", Path);
        }
    }

    /// <summary>True if the record may be taken over: expired by <paramref name="now"/>, or
    /// not a lease record at all (nobody can renew what nobody can read).</summary>
    private static bool HasExpired(byte[] content, DateTimeOffset now) =>
        StorageRecords.ParseOrNull(content, CoreJson.Default.LeaseRecord) is not { } present || present.Expires <= now;

    /// <summary>The ETag of <paramref name="written"/> if it is still the record, else null.</summary>
    private static async Task<string?> ETagOfAsync(IStorageBackend backend, string path, byte[] written, CancellationToken ct) =>
        await backend.ReadVersionedAsync(path, ct) is { } read && read.Content.AsSpan().SequenceEqual(written) ? read.ETag : null;

    private static byte[] Serialize(LeaseRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, CoreJson.Default.LeaseRecord);
}
