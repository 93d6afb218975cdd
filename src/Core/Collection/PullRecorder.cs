// Records that an image was pulled, for the garbage collector (issue 13.4: "cheaply: at most one
// write per image per hour"). A manifest request calls Record and goes on at once: the write
// runs in the background, and its failure is logged, never answered, since a pull must not
// fail or wait because its bookkeeping could not be written.
//
// Cost: one write per image (or pinned manifest) an hour per instance at most. An in-process
// memo holds when this instance last wrote each record; past the hour the stored record is read
// first, so several instances (the HTTP app scales out) add at most one read each, and write
// only when the stored time is an hour old too. The collector's retention is counted in days,
// so an hour's resolution loses nothing.
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;

namespace Nixery.Core.Collection;

public sealed class PullRecorder(RegistryStore store, TimeProvider time, ILogger<PullRecorder> logger)
{
    /// <summary>How old a pull record may get before a pull writes it again.</summary>
    public static readonly TimeSpan Resolution = TimeSpan.FromHours(1);

    /// <summary>Bounds the memo (about 200 bytes an entry); cleared whole when full, which costs
    /// one more read per image, not correctness.</summary>
    private const int MemoLimit = 100_000;

    /// <summary>A write that hangs (storage gone) is given up after this; the next pull past the
    /// hour tries again.</summary>
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _written = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _pending = new();

    /// <summary>A pull of the image by tag (its key and sorted name).</summary>
    public void RecordImage(string imageKey, string imageName) => Record(StorageLayout.Pull(imageKey), imageName);

    /// <summary>A pull of a manifest by its digest.</summary>
    public void RecordManifest(Digest manifest) => Record(StorageLayout.ManifestPull(manifest), null);

    /// <summary>Waits for the writes in flight (tests, and a host that stops).</summary>
    public Task FlushAsync() => Task.WhenAll(_pending.Keys);

    private void Record(string path, string? imageName)
    {
        var now = time.GetUtcNow();
        var claimed = _written.TryGetValue(path, out var last)
            ? now - last >= Resolution && _written.TryUpdate(path, now, last)
            : _written.TryAdd(path, now);
        if (!claimed)
        {
            // Written within the hour, or another request of this instance is writing it now.
            return;
        }

        if (_written.Count > MemoLimit)
        {
            _written.Clear();
        }

        var write = WriteAsync(path, imageName, now);
        _pending.TryAdd(write, 0);
        _ = write.ContinueWith(t => _pending.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task WriteAsync(string path, string? imageName, DateTimeOffset now)
    {
        // Off the request's thread and out of its cancellation: the client may be gone already.
        await Task.Yield();
        using var timeout = new CancellationTokenSource(WriteTimeout);
        try
        {
            if (await store.GetPullAsync(path, timeout.Token) is { } stored && stored.Pulled <= now && now - stored.Pulled < Resolution && (imageName is null || stored.Image == imageName))
            {
                return;
            }

            await store.PutPullAsync(path, new PullRecord(now, imageName), timeout.Token);
        }
        catch (Exception e)
        {
            // Forget the memo so that a later pull tries again.
            _written.TryRemove(new KeyValuePair<string, DateTimeOffset>(path, now));
            logger.LogWarning("could not record a pull in {PullRecord}: {Reason}", path, e.Message);
        }
    }
}
