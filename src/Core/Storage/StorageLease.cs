// The one lease primitive: mutual exclusion between processes that share nothing but the
// storage (workers on Azure, processes on one folder), built on the backend's ETags because
// neither backend's own leases fit both (Azure blob leases last 15–60 s or forever and need
// a blob to exist; a folder has none). Layer packing uses it (LayerCache) so that two
// workers do not pack the same layer at once; anything else that needs a lock takes one here.
//
// The record at the lease's path is JSON: {"owner":"<who>","expires":"<ISO 8601>"}, and,
// when the owner says who it is (LeaseOwner), also "build" (what it works for: an image key),
// "job" (the job id), "attempt" (when this attempt of the build began), "host", "pid" and
// "process" (ProcessIdentity: boot and start time, which a reused PID does not share).
//
//   acquire   create the record (If-None-Match: *); if one is there and may be taken over
//             (MayTakeOver), replace it If-Match the ETag it was read with, so of several
//             racers exactly one wins (StorageRecords). The ETag of what was written comes
//             from the write itself (TryCreateVersionedAsync: Azure's Put Blob answers it, the
//             filesystem's is a hash of the bytes), so taking a free lease is one round trip,
//             not three (issue 16). A record may be taken over when
//               - it cannot be read (nobody can renew what nobody can read);
//               - it has expired by the acquirer's clock;
//               - it is an earlier attempt of the acquirer's own build (same "build", an
//                 earlier "attempt"): a retried job, or the job enqueued again for the same
//                 image, does not wait on what its dead or abandoned predecessor left. Never
//                 the reverse, so two live attempts do not take a lease back and forth: the
//                 later one keeps it, the earlier one's renewal finds it lost and waits. The
//                 order is by the attempts' clocks; skew larger than the seconds between two
//                 attempts only falls back to expiry;
//               - its process is gone: same host, and its PID runs no more or runs another
//                 process (ProcessIdentity) — a worker killed with kill -9 on this machine.
//   renew     every third of the lifetime, in the background, replace the record with a later
//             expiry If-Match the ETag of our last write (the new ETag from that write). If that fails the record is gone or
//             another owner took it over (see acquire): the lease is lost, Lost fires and
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

/// <summary>Who holds a lease. <paramref name="Id"/> tells holders apart; the rest lets a later
/// acquirer see that the holder is gone or is an earlier attempt of its own build.</summary>
/// <param name="Build">What the holder works for (an image key); attempts of one build share it.</param>
/// <param name="Job">The job id, for the log.</param>
/// <param name="Attempt">When this attempt of the build began: a later one takes over an earlier one's leases.</param>
public sealed record LeaseOwner(string Id, string? Build = null, string? Job = null, DateTimeOffset? Attempt = null, string? Host = null, int? Pid = null, string? Process = null)
{
    /// <summary>An owner in this process, with its host, PID and process identity.</summary>
    public static LeaseOwner InThisProcess(string id, string? build = null, string? job = null, DateTimeOffset? attempt = null) =>
        new(id, build, job, attempt, ProcessIdentity.Host, Environment.ProcessId, ProcessIdentity.Current);
}

/// <summary>The stored form of a lease (see the top of this file).</summary>
public sealed record LeaseRecord(
    [property: JsonPropertyName("owner")] string Owner,
    [property: JsonPropertyName("expires")] DateTimeOffset Expires,
    [property: JsonPropertyName("build"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Build = null,
    [property: JsonPropertyName("job"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Job = null,
    [property: JsonPropertyName("attempt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? Attempt = null,
    [property: JsonPropertyName("host"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Host = null,
    [property: JsonPropertyName("pid"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Pid = null,
    [property: JsonPropertyName("process"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Process = null)
{
    public static LeaseRecord Of(LeaseOwner owner, DateTimeOffset expires) =>
        new(owner.Id, expires, owner.Build, owner.Job, owner.Attempt, owner.Host, owner.Pid, owner.Process);

    /// <summary>Why <paramref name="acquirer"/> may take this lease over at <paramref name="now"/>,
    /// or null if it may not (the rules at the top of this file).</summary>
    public string? TakeOverReason(LeaseOwner acquirer, DateTimeOffset now) =>
        Expires <= now ? "it expired"
        : Build is not null && Build == acquirer.Build && Attempt < acquirer.Attempt ? "it is an earlier attempt of the same build"
        : ProcessIdentity.IsGone(Host, Pid, Process) ? $"its process {Pid} on {Host} is gone"
        : null;
}

/// <summary>Takes leases on paths of this process's storage.</summary>
public sealed class StorageLeases(IStorageBackend backend, TimeProvider time, ILogger<StorageLease> logger)
{
    /// <summary>The lease on <paramref name="path"/> for <paramref name="owner"/>, renewed until
    /// disposed; null if another owner holds it and it has not expired.</summary>
    public Task<StorageLease?> TryAcquireAsync(string path, string owner, TimeSpan lifetime, CancellationToken ct) =>
        StorageLease.TryAcquireAsync(backend, path, new LeaseOwner(owner), lifetime, time, logger, ct);

    /// <summary>The lease on <paramref name="path"/> for <paramref name="owner"/>, renewed until
    /// disposed; null if another holds it and may not be taken over (see the top of this file).</summary>
    public Task<StorageLease?> TryAcquireAsync(string path, LeaseOwner owner, TimeSpan lifetime, CancellationToken ct) =>
        StorageLease.TryAcquireAsync(backend, path, owner, lifetime, time, logger, ct);

    /// <summary>Deletes the lease records under <paramref name="prefix"/> that anyone may take over
    /// now (expired, unreadable, or of a process gone from this host), each If-Match the ETag it
    /// was read with; returns how many. For a process that knows it is the storage's only user
    /// at start-up (the embedded default); elsewhere acquiring takes such records over anyway.</summary>
    public async Task<int> SweepAsync(string prefix, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var nobody = new LeaseOwner("sweeper");
        var found = new List<string>();
        await foreach (var (path, _) in backend.ListAsync(prefix, ct))
        {
            if (path.EndsWith(StorageLayout.LeaseSuffix, StringComparison.Ordinal))
            {
                found.Add(path);
            }
        }

        var swept = 0;
        foreach (var path in found)
        {
            if (await backend.ReadVersionedAsync(path, ct) is { } present
                && StorageLease.TakeOverReason(present.Content, nobody, now) is { } reason
                && await backend.TryDeleteAsync(path, present.ETag, ct))
            {
                logger.LogInformation("swept lease {Lease}: {Reason}", path, reason);
                swept++;
            }
        }

        return swept;
    }
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

    private StorageLease(IStorageBackend backend, string path, LeaseOwner owner, TimeSpan lifetime, LeaseRecord written, string etag, TimeProvider time, ILogger logger)
    {
        _backend = backend;
        Path = path;
        Holder = owner;
        _lifetime = lifetime;
        _expires = written.Expires;
        _etag = etag;
        _time = time;
        _logger = logger;
        // Created before the lease is handed out, so a clock moved right after acquiring is seen.
        _timer = time.CreateTimer(_ => Tick(), null, lifetime / 3, lifetime / 3);
    }

    public string Path { get; }

    public string Owner => Holder.Id;

    public LeaseOwner Holder { get; }

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
        IStorageBackend backend, string path, LeaseOwner owner, TimeSpan lifetime, TimeProvider time, ILogger logger, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        var now = time.GetUtcNow();
        var record = LeaseRecord.Of(owner, now + lifetime);
        var content = Serialize(record);
        string? takenOver = null;
        if (await backend.TryCreateOrTakeOverVersionedAsync(path, content, present => (takenOver = TakeOverReason(present, owner, now)) is not null, ct) is not { } etag)
        {
            return null;
        }

        if (takenOver is not null)
        {
            logger.LogInformation("took over lease {Lease} for {Owner}: {Reason}", path, owner.Id, takenOver);
        }

        logger.LogDebug("acquired lease {Lease} for {Owner} until {Expires}", path, owner.Id, record.Expires);
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
        var record = LeaseRecord.Of(Holder, _time.GetUtcNow() + _lifetime);
        var content = Serialize(record);
        try
        {
            if (await _backend.TryReplaceVersionedAsync(Path, content, _etag, "application/json", CancellationToken.None) is { } etag)
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

    /// <summary>Why the stored record may be taken over by <paramref name="acquirer"/>, or null:
    /// a record that is no lease at all may (nobody can renew what nobody can read).</summary>
    internal static string? TakeOverReason(byte[] content, LeaseOwner acquirer, DateTimeOffset now) =>
        StorageRecords.ParseOrNull(content, CoreJson.Default.LeaseRecord) is not { } present ? "it is no lease record" : present.TakeOverReason(acquirer, now);

    private static byte[] Serialize(LeaseRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, CoreJson.Default.LeaseRecord);
}
