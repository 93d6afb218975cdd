// The one home of a build's state: status/<image-key>.json, written here and nowhere else.
// The HTTP side claims builds and reads their state; the worker moves them on.
//
// States and transitions
//
//                 Claim                Start                 Succeed
//   (no record) ────────▶ queued ───────────▶ building ────────────▶ done
//                           ▲                  │   ▲ │
//                           │                  │   └─┘ Progress: layers ready of the total; and
//                           │                  │       the heartbeat, every HeartbeatInterval
//                           │                  │       Retry: an attempt threw; the queue
//                           │                  │       delivers the job again (+ the reason)
//                           │                  └──────────▶ failed (+ reason, missing packages,
//                           │                     Fail              log tail, image name)
//                           └──── Claim, only of a stale record: queued | building | failed | done
//
//   transition  by                                  when
//   Claim       HTTP side (BuildCoordinator)        a pull found no image record and no fresh status,
//                                                   or, waiting, found the status went stale;
//                                                   true: this caller enqueues the one job
//   Start       worker (BuildJobRunner)             it takes the job (every delivery not superseded)
//   Progress    worker (BuildAttempt)               every HeartbeatInterval while the attempt runs;
//                                                   packing began; a layer is ready (≤ 1/s); the last is
//   Retry       worker (BuildJobRunner)             an attempt threw and it is not the queue's last delivery
//   Fail        worker (BuildJobRunner)             packages not found, Nix failed, the job's version is
//                                                   unknown, or the last delivery threw
//   Succeed     worker (BuildJobRunner)             the image record is written (ImageBuilder)
//
// Every record a claim or a worker writes names its job ("job": the job id). A delivery of a
// job other than the one the record names has been superseded by a later claim (the job was
// enqueued again because it looked dead) and stops without building (BuildJobRunner), so the
// old job's message, delivered again after the queue's visibility timeout, is harmless.
//
// Claim is the only conditional write: a create (If-None-Match: *), or, when the record there
// is stale, a replace If-Match the ETag it was read with (StorageRecords), so of several
// racing pulls — on this instance or others — exactly one wins and enqueues. The worker's
// writes are plain overwrites: a claim hands out one job, and a job delivered twice (queues
// are at-least-once) rewrites the same states.
//
// Stale (IsStale): the record no longer stands for a build, and the next Claim takes it over.
//   failed            older than NIXERY_FAILURE_TTL: remembered long enough, a pull tries again
//   building with a   heartbeat older than HeartbeatStaleAfter (3 × HeartbeatInterval = 15 s):
//   heartbeat         its attempt died (kill -9, a lost instance). The HTTP side claims and
//                     enqueues again at once instead of waiting for the queue's visibility
//                     timeout (minutes). Three beats, so one slow storage write is no death;
//                     clocks of the worker and the HTTP side are compared, so skew between
//                     them must stay well under 15 s (NTP keeps Azure's within a second)
//   queued, building  older than NIXERY_BUILD_STALE: queued has no heartbeat (waiting in a
//   without one       backlog is not a death), nor has building between a throw (Retry) and
//                     the queue's next delivery; or, when this process sends jobs to a queue
//                     that dies with it (the embedded default's), written before this ledger
//                     was made: its job died with an earlier process
//   done              always: a caller asks only after finding no image record, and done is
//                     written after that record, so done without it means the record was lost
//
// Write order with the image record (ARCHITECTURE.md): blobs, the manifest blobs, then
// images/<image-key>.json (RegistryStore.PutImageAsync), then Succeed. Readers look for the
// image record first and at the status only when there is none, so "done" is never what
// makes an image visible; it only stops the status from looking like a build in flight.
using System.Runtime.CompilerServices;
using System.Text.Json;
using Nixery.Core.Manifests;
using Nixery.Core.Options;
using Nixery.Core.Queue;
using Nixery.Core.Storage;

namespace Nixery.Core.Builds;

/// <summary>Why a build failed, as the status keeps it for the pulls that follow.</summary>
/// <param name="Image">The image's name (sorted packages, e.g. "git/shell"), for the failures list.</param>
public sealed record BuildFailure(string Image, string Reason, IReadOnlyList<string>? Missing = null, IReadOnlyList<string>? LogTail = null);

/// <summary>How far packing is: layers ready of the image's total, and since when it packs.</summary>
/// <param name="Bytes">Compressed bytes of the layers ready so far (reused ones included).</param>
public sealed record LayerProgress(int Ready, int Total, DateTimeOffset PackingSince, long? Bytes = null);

/// <summary>One status record: its image key and when storage last saw it written.</summary>
public sealed record StatusEntry(string ImageKey, DateTimeOffset Written);

/// <param name="queue">The queue this process sends jobs to, if it sends any; one that does not
/// outlive the process makes older queued and building records stale (see IsStale).</param>
public sealed class BuildLedger(IStorageBackend backend, StatusOptions options, TimeProvider time, IBuildQueue? queue = null)
{
    /// <summary>How often a running attempt rewrites its status (BuildAttempt).</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(5);

    /// <summary>A building status whose heartbeat is older than this is a dead attempt's: three
    /// beats missed (see the top of this file).</summary>
    public static readonly TimeSpan HeartbeatStaleAfter = 3 * HeartbeatInterval;

    /// <summary>When this process began writing statuses; earlier ones are another process's.</summary>
    private readonly DateTimeOffset _started = time.GetUtcNow();

    /// <summary>The image's build status, or null if no build was ever claimed. Throws a
    /// JsonException for a record that is not a status.</summary>
    public Task<BuildStatus?> GetAsync(string imageKey, CancellationToken ct) =>
        backend.ReadJsonAsync(StorageLayout.Status(imageKey), CoreJson.Default.BuildStatus, ct);

    /// <summary>Every status record, in path order, by name and time written (storage's clock);
    /// reading them is up to the caller, so a long status/ costs a listing only.</summary>
    public async IAsyncEnumerable<StatusEntry> ListAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var (path, modified) in backend.ListAsync(StorageLayout.StatusPrefix, ct))
        {
            if (StorageLayout.ImageKeyOfStatus(path) is { } key)
            {
                yield return new StatusEntry(key, modified);
            }
        }
    }

    /// <summary>The newest status records written since <paramref name="since"/> (storage's
    /// clock), at most <paramref name="max"/>, newest first, read; a record that does not parse
    /// is skipped and handed to <paramref name="unreadable"/>. For the lists of the web page
    /// and of recent failures, which look at recent builds only.</summary>
    public async Task<IReadOnlyList<(string ImageKey, BuildStatus Status)>> RecentAsync(DateTimeOffset since, int max, Action<string, JsonException> unreadable, CancellationToken ct)
    {
        var candidates = new List<StatusEntry>();
        await foreach (var entry in ListAsync(ct))
        {
            if (entry.Written >= since)
            {
                candidates.Add(entry);
            }
        }

        var read = new List<(string, BuildStatus)>();
        foreach (var key in candidates.OrderByDescending(c => c.Written).Take(max).Select(c => c.ImageKey))
        {
            try
            {
                if (await GetAsync(key, ct) is { } status)
                {
                    read.Add((key, status));
                }
            }
            catch (JsonException e)
            {
                unreadable(key, e);
            }
        }

        return read;
    }

    /// <summary>Whether the record no longer stands for a build (see the top of this file).</summary>
    public bool IsStale(BuildStatus status)
    {
        var now = time.GetUtcNow();
        var age = now - status.Updated;
        return status.State switch
        {
            BuildState.Failed => age > options.FailureTtl,
            BuildState.Building when status.Heartbeat is { } beat && now - beat > HeartbeatStaleAfter => true,
            BuildState.Queued or BuildState.Building => age > options.BuildStaleAfter || (queue is { IsDurable: false } && status.Updated < _started),
            _ => true,
        };
    }

    /// <summary>Queued for <paramref name="jobId"/>, if there was no record or a stale one: true
    /// if this caller won and must enqueue that job. Call it only after finding no image record
    /// (a done record is stale).</summary>
    public Task<bool> ClaimAsync(string imageKey, string jobId, CancellationToken ct) =>
        backend.TryCreateOrTakeOverAsync(
            StorageLayout.Status(imageKey),
            JsonSerializer.SerializeToUtf8Bytes(new BuildStatus(BuildState.Queued, time.GetUtcNow(), Job: jobId), CoreJson.Default.BuildStatus),
            present => StorageRecords.ParseOrNull(present, CoreJson.Default.BuildStatus) is not { } status || IsStale(status),
            ct);

    /// <summary>Building: a worker took the job; the first heartbeat. <paramref name="image"/>
    /// names the image for the web page's builds in progress.</summary>
    public Task StartAsync(string imageKey, string jobId, string? image, CancellationToken ct) =>
        WriteAsync(imageKey, Beat(jobId, null, image), ct);

    /// <summary>Building, without the image's name.</summary>
    public Task StartAsync(string imageKey, string jobId, CancellationToken ct) =>
        StartAsync(imageKey, jobId, null, ct);

    /// <summary>Building, with how far packing is (null: not packing yet), for the HTTP side's
    /// estimate of the time left and the web page's progress; each write is a heartbeat.</summary>
    public Task ProgressAsync(string imageKey, string jobId, LayerProgress? progress, string? image, CancellationToken ct) =>
        WriteAsync(imageKey, Beat(jobId, progress, image), ct);

    /// <summary>Progress without the image's name.</summary>
    public Task ProgressAsync(string imageKey, string jobId, LayerProgress? progress, CancellationToken ct) =>
        ProgressAsync(imageKey, jobId, progress, null, ct);

    /// <summary>Still building: an attempt failed with <paramref name="reason"/> and the queue will
    /// deliver the job again. No heartbeat: until then nothing runs (NIXERY_BUILD_STALE applies).</summary>
    public Task RetryAsync(string imageKey, string jobId, string reason, CancellationToken ct) =>
        WriteAsync(imageKey, new BuildStatus(BuildState.Building, time.GetUtcNow(), reason, Job: jobId), ct);

    /// <summary>Failed, remembered for NIXERY_FAILURE_TTL: pulls meanwhile are answered from it.</summary>
    public Task FailAsync(string imageKey, BuildFailure failure, CancellationToken ct) =>
        FailAsync(imageKey, null, failure, ct);

    /// <summary>Failed by the job <paramref name="jobId"/>, remembered for NIXERY_FAILURE_TTL.</summary>
    public Task FailAsync(string imageKey, string? jobId, BuildFailure failure, CancellationToken ct) =>
        WriteAsync(imageKey, new BuildStatus(BuildState.Failed, time.GetUtcNow(), failure.Reason, failure.Missing, failure.LogTail, failure.Image, Job: jobId), ct);

    /// <summary>Done. Only after the image record is written: that record, not this, makes the image visible.</summary>
    public Task SucceedAsync(string imageKey, string jobId, CancellationToken ct) =>
        SucceedAsync(imageKey, jobId, null, ct);

    /// <summary>Done, naming the image (for the web page's recent builds).</summary>
    public Task SucceedAsync(string imageKey, string jobId, string? image, CancellationToken ct) =>
        WriteAsync(imageKey, new BuildStatus(BuildState.Done, time.GetUtcNow(), Image: image, Job: jobId), ct);

    private BuildStatus Beat(string jobId, LayerProgress? progress, string? image)
    {
        var now = time.GetUtcNow();
        return new BuildStatus(BuildState.Building, now, Image: image, LayersReady: progress?.Ready, LayersTotal: progress?.Total, PackingSince: progress?.PackingSince, Job: jobId, Heartbeat: now, LayersBytes: progress?.Bytes);
    }

    private Task WriteAsync(string imageKey, BuildStatus status, CancellationToken ct) =>
        backend.WriteJsonAsync(StorageLayout.Status(imageKey), status, CoreJson.Default.BuildStatus, ct);
}
