// Deletes images nobody pulls any more, then everything no remaining image needs (issue 13.4).
// Mark and sweep over the storage layout (StorageLayout), in the order that keeps every reader
// safe if the collection stops at any point (a crash, storage gone):
//
//   1. expire   an image entry whose last use is older than NIXERY_RETENTION is deleted, then
//               its status record and its pull record. Last use: the newest of its pull record
//               (by tag), the by-digest pull records of its manifests (PullRecorder) and the
//               entry's own modification (its build). From here the image is a miss: the next
//               pull builds it again, reusing whatever layers are still there.
//   2. mark     from every remaining image entry: its manifests (Docker, OCI, the OCI index
//               and the manifests it lists), their configs and layers, the referrers index of
//               each manifest and the SBOM artifact manifests it names, with their blobs.
//   3. records  layer records whose blob is about to go (so a layer record never names a
//               missing blob; LayerCache also checks the blob before it reuses one), referrers
//               indexes of unmarked manifests, status and pull records of images that are
//               gone, catalog entries of names no remaining image has.
//   4. blobs    every unmarked blob, last: nothing left names it.
//
// Grace (NIXERY_GC_GRACE): steps 3 and 4 delete only objects older than it. A build in
// progress writes its blobs, then its manifests, referrers and catalog entry, and its image
// entry last (ARCHITECTURE.md), so what it has uploaded so far is unmarked but fresh, and stays.
//
// Builds in progress: a build may also use what is old and unmarked. It reuses a layer by its
// layer record, and writes a config or manifest that is already there (an expired image built
// again) by leaving the old object in place; the old blob keeps its old time, and the grace
// period cannot tell it is wanted (nor can it where storage's clock and this one disagree). So
// step 4, and the layer records, referrers indexes and catalog entries of step 3 (which a build
// also writes before its image entry), run only while no build is queued or running (a status record that
// is queued, or building with a live heartbeat: BuildLedger.IsStale); step 4 looks again before
// each batch of deletes, together with any image entry written since the mark. Otherwise they
// are left for the next collection (BlobsDeferred). A
// build's status is queued before its worker starts, and Nix takes seconds before the first
// layer lookup, which is the window a batch has.
// A pull that read an image entry just before step 1 may find its layers gone in step 4; its
// client retries the pull, which builds the image again.
// Leases, staging/ (StagingSweeper), popularity and package indexes are not touched.
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Nixery.Core.Builds;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;

namespace Nixery.Core.Collection;

public sealed class GarbageCollector(
    IStorageBackend backend,
    RegistryStore store,
    BuildLedger ledger,
    CollectionOptions options,
    TimeProvider time,
    ILogger<GarbageCollector> logger)
{
    /// <summary>Blobs deleted between two looks for builds that started meanwhile.</summary>
    private const int BlobBatch = 200;

    /// <summary>Manifests are small (ManifestHandler serves at most this); a larger blob is not one.</summary>
    private const long MaxManifestSize = 4 * 1024 * 1024;

    public async Task<CollectionReport> CollectAsync(bool dryRun, CancellationToken ct)
    {
        if (!options.Enabled)
        {
            logger.LogInformation("garbage collection of {Backend} skipped: NIXERY_RETENTION is 0 (off)", backend.Name);
            return CollectionReport.Off(dryRun, "retention is off (NIXERY_RETENTION is 0)");
        }

        var run = new Run(dryRun, time.GetUtcNow() - options.Grace);
        var expireBefore = time.GetUtcNow() - options.Retention;

        // 1. Expire.
        var pulls = await ReadPullsAsync(ct);
        var kept = new Dictionary<string, ImageRecord>(StringComparer.Ordinal);
        var expired = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var namesKnown = true;
        await foreach (var (path, modified) in backend.ListAsync(StorageLayout.ImagePrefix, ct))
        {
            if (StorageLayout.ImageKeyOfImage(path) is not { } key || await ReadImageAsync(key, ct) is not { } image)
            {
                continue;
            }

            var lastUse = modified;
            var byTag = pulls.GetValueOrDefault(StorageLayout.Pull(key)).Record;
            lastUse = Max(lastUse, byTag?.Pulled);
            foreach (var variant in image.StoredVariants())
            {
                if (Digest.TryParse(variant.Digest, out var digest))
                {
                    lastUse = Max(lastUse, pulls.GetValueOrDefault(StorageLayout.ManifestPull(digest.Value)).Record?.Pulled);
                }
            }

            if (lastUse < expireBefore)
            {
                expired.Add(key);
                continue;
            }

            kept[key] = image;
            if (byTag?.Image is { } name)
            {
                names.Add(name);
            }
            else
            {
                namesKnown = false;
            }
        }

        var gone = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in expired)
        {
            await run.DeleteAsync(backend, StorageLayout.Image(key), Kind.Image, ct);
            if (await ReadStatusAsync(key, ct) is { } status && ledger.IsStale(status))
            {
                await run.DeleteAsync(backend, StorageLayout.Status(key), Kind.Status, ct);
            }

            if (pulls.ContainsKey(StorageLayout.Pull(key)))
            {
                await run.DeleteAsync(backend, StorageLayout.Pull(key), Kind.Pull, ct);
            }

            gone.Add(key);
        }

        // 2. Mark.
        var marked = new HashSet<Digest>();
        var keptManifests = new HashSet<Digest>();
        foreach (var (key, image) in kept)
        {
            await MarkImageAsync(key, image, marked, keptManifests, ct);
        }

        // 3. Records of what is about to go.
        var blobs = new Dictionary<Digest, DateTimeOffset>();
        await foreach (var (path, modified) in backend.ListAsync(StorageLayout.BlobPrefix, ct))
        {
            if (StorageLayout.DigestOfBlob(path) is { } digest)
            {
                blobs[digest] = modified;
            }
        }

        // A build that ended since step 1 (an expired image pulled and built again at once,
        // reusing its old layers) keeps what it names; its name is unknown to the catalog rule.
        if (await MarkImagesWrittenSinceAsync(kept, gone, dryRun, marked, keptManifests, ct))
        {
            namesKnown = false;
        }

        // What a build writes before its image entry, besides blobs, is deferred with them.
        var deferred = false;
        var statuses = new Dictionary<string, (DateTimeOffset, BuildStatus?)>(StringComparer.Ordinal);
        if (await RunningBuildAsync(statuses, ct) is { } runningNow)
        {
            logger.LogInformation("garbage collection of {Backend} leaves unreferenced blobs, layer records, referrers indexes and catalog entries for the next run: the build of {ImageKey} is {State}", backend.Name, runningNow.Key, runningNow.State);
            deferred = true;
        }

        if (!deferred)
        {
            await foreach (var (path, modified) in backend.ListAsync(StorageLayout.LayerPrefix, ct))
            {
                if (StorageLayout.LayerKeyOfRecord(path) is null)
                {
                    continue; // a lease: its owner's
                }

                var layer = await ReadOrNullAsync(path, CoreJson.Default.LayerRecord, ct);
                var sweepable = layer is not null && Digest.TryParse(layer.Digest, out var digest)
                    ? !marked.Contains(digest.Value) && (blobs.TryGetValue(digest.Value, out var blobModified) ? run.Old(blobModified) : run.Old(modified))
                    : run.Old(modified);
                if (sweepable)
                {
                    await run.DeleteAsync(backend, path, Kind.Layer, ct);
                }
            }

            await foreach (var (path, modified) in backend.ListAsync(StorageLayout.ReferrersPrefix, ct))
            {
                if (StorageLayout.SubjectOfReferrers(path) is { } subject && !marked.Contains(subject) && run.Old(modified))
                {
                    await run.DeleteAsync(backend, path, Kind.Referrers, ct);
                }
            }
        }

        await foreach (var entry in ledger.ListAsync(ct))
        {
            if (!kept.ContainsKey(entry.ImageKey) && !gone.Contains(entry.ImageKey) && run.Old(entry.Written)
                && await ReadStatusAsync(entry.ImageKey, ct) is { } status && ledger.IsStale(status))
            {
                await run.DeleteAsync(backend, StorageLayout.Status(entry.ImageKey), Kind.Status, ct);
            }
        }

        foreach (var (path, (modified, _)) in pulls)
        {
            var orphan = StorageLayout.ImageKeyOfPull(path) is { } key
                ? !kept.ContainsKey(key) && !gone.Contains(key)
                : StorageLayout.DigestOfManifestPull(path) is { } manifest && !keptManifests.Contains(manifest);
            if (orphan && run.Old(modified))
            {
                await run.DeleteAsync(backend, path, Kind.Pull, ct);
            }
        }

        // A name is known only from a pull record by tag; an image never pulled since pull
        // records exist has none, and then no catalog entry can be known to be unused.
        if (namesKnown && !deferred)
        {
            await foreach (var (path, modified) in backend.ListAsync(StorageLayout.CatalogPrefix, ct))
            {
                if (StorageLayout.ImageNameOfCatalogEntry(path) is { } name && !names.Contains(name) && run.Old(modified))
                {
                    await run.DeleteAsync(backend, path, Kind.Catalog, ct);
                }
            }
        }

        // 4. Blobs, last, while no build runs.
        var sweep = blobs.Where(b => !marked.Contains(b.Key) && run.Old(b.Value)).Select(b => b.Key).OrderBy(d => d.Hex, StringComparer.Ordinal).ToList();
        for (var start = 0; start < sweep.Count && !deferred; start += BlobBatch)
        {
            if (await RunningBuildAsync(statuses, ct) is { } running)
            {
                logger.LogInformation("garbage collection of {Backend} leaves {Blobs} unreferenced blobs for the next run: the build of {ImageKey} is {State}", backend.Name, sweep.Count - start, running.Key, running.State);
                deferred = true;
                break;
            }

            await MarkImagesWrittenSinceAsync(kept, gone, dryRun, marked, keptManifests, ct);

            foreach (var digest in sweep.Skip(start).Take(BlobBatch).Where(d => !marked.Contains(d)))
            {
                await run.DeleteAsync(backend, StorageLayout.Blob(digest), Kind.Blob, ct);
            }
        }

        var report = run.Report(kept.Count, blobs.Keys.Count(marked.Contains), deferred);
        logger.LogInformation(
            "garbage collection of {Backend}{DryRun}: images {Images} ({ImageBytes} bytes), blobs {Blobs} ({BlobBytes} bytes), layer records {LayerRecords}, referrers {Referrers}, statuses {Statuses}, pull records {PullRecords}, catalog entries {CatalogEntries}; {BytesFreed} bytes freed; kept {ImagesKept} images and {BlobsKept} blobs{Deferred}",
            backend.Name, dryRun ? " (dry run: nothing deleted)" : "",
            report.Images.Count, report.Images.Bytes, report.Blobs.Count, report.Blobs.Bytes, report.LayerRecords.Count, report.Referrers.Count,
            report.Statuses.Count, report.PullRecords.Count, report.CatalogEntries.Count, report.BytesFreed, report.ImagesKept, report.BlobsKept,
            deferred ? "; unreferenced blobs deferred: builds are running" : "");
        return report;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset? b) => b is { } value && value > a ? value : a;

    /// <summary>Every pull record, by path, with its time (null when unreadable).</summary>
    private async Task<Dictionary<string, (DateTimeOffset Modified, PullRecord? Record)>> ReadPullsAsync(CancellationToken ct)
    {
        var pulls = new Dictionary<string, (DateTimeOffset, PullRecord?)>(StringComparer.Ordinal);
        await foreach (var (path, modified) in backend.ListAsync(StorageLayout.PullPrefix, ct))
        {
            pulls[path] = (modified, await ReadOrNullAsync(path, CoreJson.Default.PullRecord, ct));
        }

        return pulls;
    }

    /// <summary>The image entry, or null if it was deleted meanwhile. An entry that is not one
    /// stops the collection: what it names cannot be known, so nothing may be swept.</summary>
    private async Task<ImageRecord?> ReadImageAsync(string key, CancellationToken ct)
    {
        try
        {
            return await store.GetImageAsync(key, ct);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{StorageLayout.Image(key)} is not an image entry ({e.Message}); garbage collection stopped before sweeping anything it may name", e);
        }
    }

    private async Task<BuildStatus?> ReadStatusAsync(string key, CancellationToken ct)
    {
        try
        {
            return await ledger.GetAsync(key, ct);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task<T?> ReadOrNullAsync<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct)
        where T : class
    {
        try
        {
            return await backend.ReadJsonAsync(path, type, ct);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A build that is queued or running now (its status is not stale), if any. Each
    /// status record is read once a collection, and again only when it changed, so looking before
    /// every batch costs a listing of status/ (which holds a record for every image, failed ones
    /// included); records' times are not compared with this clock, which may not be storage's.</summary>
    private async Task<(string Key, BuildState State)?> RunningBuildAsync(Dictionary<string, (DateTimeOffset Written, BuildStatus? Status)> seen, CancellationToken ct)
    {
        (string, BuildState)? running = null;
        await foreach (var entry in ledger.ListAsync(ct))
        {
            if (!seen.TryGetValue(entry.ImageKey, out var known) || known.Written != entry.Written)
            {
                known = (entry.Written, await ReadStatusAsync(entry.ImageKey, ct));
                seen[entry.ImageKey] = known;
            }

            if (running is null && known.Status is { State: BuildState.Queued or BuildState.Building } status && !ledger.IsStale(status))
            {
                running = (entry.ImageKey, status.State);
            }
        }

        return running;
    }

    /// <summary>Marks image entries written since step 1 (builds that ended meanwhile, an expired
    /// image built again among them); true if there were any. In a dry run the expired entries
    /// are still there, and are not new.</summary>
    private async Task<bool> MarkImagesWrittenSinceAsync(
        Dictionary<string, ImageRecord> kept, HashSet<string> gone, bool dryRun, HashSet<Digest> marked, HashSet<Digest> manifests, CancellationToken ct)
    {
        var any = false;
        await foreach (var (path, _) in backend.ListAsync(StorageLayout.ImagePrefix, ct))
        {
            if (StorageLayout.ImageKeyOfImage(path) is { } key && !kept.ContainsKey(key) && !(dryRun && gone.Contains(key))
                && await ReadImageAsync(key, ct) is { } image)
            {
                kept[key] = image;
                any = true;
                await MarkImageAsync(key, image, marked, manifests, ct);
            }
        }

        return any;
    }

    private async Task MarkImageAsync(string key, ImageRecord image, HashSet<Digest> marked, HashSet<Digest> manifests, CancellationToken ct)
    {
        foreach (var variant in image.StoredVariants())
        {
            if (!Digest.TryParse(variant.Digest, out var digest))
            {
                throw new InvalidDataException($"{StorageLayout.Image(key)} names a manifest {variant.Digest} that is no digest; garbage collection stopped before sweeping");
            }

            manifests.Add(digest.Value);
            await MarkManifestAsync(key, digest.Value, marked, ct);
        }
    }

    /// <summary>Marks a manifest (or index), what it names, and its referrers with theirs.</summary>
    private async Task MarkManifestAsync(string key, Digest digest, HashSet<Digest> marked, CancellationToken ct)
    {
        if (!marked.Add(digest))
        {
            return;
        }

        var props = await backend.StatAsync(StorageLayout.Blob(digest), ct);
        await using var stream = props is { Size: <= MaxManifestSize } ? await store.OpenBlobAsync(digest, ct) : null;
        if (stream is null)
        {
            logger.LogWarning("image {ImageKey} names a manifest {Digest} that is not in storage", key, digest);
            return;
        }

        using (var document = await JsonDocument.ParseAsync(stream, cancellationToken: ct))
        {
            var root = document.RootElement;
            foreach (var child in Descriptors(root, "manifests"))
            {
                await MarkManifestAsync(key, child, marked, ct);
            }

            foreach (var named in Descriptors(root, "config").Concat(Descriptors(root, "layers")))
            {
                marked.Add(named);
            }
        }

        if (await store.GetReferrersAsync(digest, ct) is { } referrers)
        {
            foreach (var artifact in referrers.Manifests)
            {
                if (Digest.TryParse(artifact.Digest, out var artifactDigest))
                {
                    await MarkManifestAsync(key, artifactDigest.Value, marked, ct);
                }
            }
        }
    }

    /// <summary>The digests of a manifest's descriptor property (one object or an array of them).</summary>
    private static List<Digest> Descriptors(JsonElement root, string property)
    {
        var digests = new List<Digest>();
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(property, out var value))
        {
            return digests;
        }

        IEnumerable<JsonElement> items = value.ValueKind switch
        {
            JsonValueKind.Array => value.EnumerateArray(),
            JsonValueKind.Object => [value],
            _ => [],
        };
        foreach (var item in items)
        {
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("digest", out var d) && d.ValueKind == JsonValueKind.String && Digest.TryParse(d.GetString(), out var digest))
            {
                digests.Add(digest.Value);
            }
        }

        return digests;
    }

    private enum Kind
    {
        Image,
        Blob,
        Layer,
        Referrers,
        Status,
        Pull,
        Catalog,
    }

    /// <summary>One collection's tally, and its deletes (none in a dry run).</summary>
    private sealed class Run(bool dryRun, DateTimeOffset oldBefore)
    {
        private readonly Dictionary<Kind, Freed> _freed = [];

        public bool Old(DateTimeOffset modified) => modified < oldBefore;

        public async Task DeleteAsync(IStorageBackend backend, string path, Kind kind, CancellationToken ct)
        {
            if (await backend.StatAsync(path, ct) is not { } props)
            {
                return; // gone meanwhile
            }

            if (!dryRun)
            {
                await backend.DeleteAsync(path, ct);
            }

            _freed[kind] = _freed.GetValueOrDefault(kind).Add(props.Size);
        }

        public CollectionReport Report(int imagesKept, int blobsKept, bool deferred) => new(
            dryRun, null,
            _freed.GetValueOrDefault(Kind.Image), _freed.GetValueOrDefault(Kind.Blob), _freed.GetValueOrDefault(Kind.Layer),
            _freed.GetValueOrDefault(Kind.Referrers), _freed.GetValueOrDefault(Kind.Status), _freed.GetValueOrDefault(Kind.Pull),
            _freed.GetValueOrDefault(Kind.Catalog), imagesKept, blobsKept, deferred);
    }
}
