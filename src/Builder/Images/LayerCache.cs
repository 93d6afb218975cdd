// The layer cache: every layer an image needs is packed once, by one worker, and reused by
// every image and worker after that. The image builder describes its layers (LayerSource)
// and asks for them all; this type owns what happens to each one:
//
//   1. look up  layers/<layer-key>.json, used only if the blob it names is really there
//               → "reused layer …"
//   2. lease    layers/<layer-key>.lease (StorageLease) for NIXERY_LAYER_CLAIM_TTL, renewed
//               every third of it while packing. The owner is the build attempt (image key,
//               job id, when the attempt began) in this process (host, PID), so a lease left
//               by an earlier attempt of the same image, or by a process gone from this host
//               (kill -9), is taken over at once. Held by another worker: "waiting for
//               layer …", then back to 1 every second until its record appears or its lease
//               may be taken over (expired: a dead worker elsewhere) and this one takes it
//   3. pack     tar → gzip straight into staging/, moved to blobs/ under its digest
//   4. record   layers/<layer-key>.json, only now: a record always names a blob that exists
//               → "packed layer …"; then the lease is released
//
// A lease lost while packing (this worker stalled past the lease's lifetime and another took
// the layer over) cancels the packing through the lease's Lost token. That is not an error of
// the build: layers are content-addressed, so this worker goes back to 1 and finds the other's
// record, waits for it, or packs the layer again if that worker dies too.
//
// Up to NIXERY_PACK_CONCURRENCY layers are packed (3) at once, the largest first so that the
// last to start are small ones and the cores stay busy to the end, on one PackingPool that
// also bounds the cores and memory their compression takes (Packing/PackingPool.cs). A
// layer's bytes never depend on it. Steps 1, 2 and 4 take no core and no buffer, only storage
// round trips, so they run for up to StorageConcurrency layers at once, outside the packing
// slots: a layer's lookup, lease, record and release overlap the packing of others instead of
// holding a slot while the storage answers (issue 16: through +300 ms per request, a slot
// held for the round trips of each layer made a cold build 14× slower). A layer's lease is
// taken before it waits for a slot, so a worker may hold up to StorageConcurrency leases at
// once; a later attempt of the same image takes them all over at once if it dies, and other
// images wait for them as for any lease (NIXERY_LAYER_CLAIM_TTL).
//
// Storage calls of one layer, cold: read the record (absent), create the lease (one create;
// the ETag comes with it), upload (Azure: one Put Blob under 8 MiB), write the record, delete
// the lease — 5. Reused: read the record, stat the blob — 2. LayerCallBudgetTests holds a real
// build to these.
using Microsoft.Extensions.Logging;
using Nixery.Builder.Packing;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;
using Nixery.Core.Telemetry;

namespace Nixery.Builder.Images;

/// <summary>One layer an image needs: its layer-cache key, its size before packing (the
/// largest are packed first) and how to pack it onto a stream with the packing pool.</summary>
public sealed record LayerSource(string Key, long Size, Func<Stream, PackingPool, CancellationToken, Task<PackedLayer>> Pack);

public sealed class LayerCache(RegistryStore store, StorageLeases leases, ImageBuilderOptions options, TimeProvider time, ILogger<LayerCache> logger) : IDisposable
{
    /// <summary>How often a worker waiting for another's layer looks for it.</summary>
    private static readonly TimeSpan LeasePoll = TimeSpan.FromSeconds(1);

    /// <summary>The owner of leases taken without a build to name (tools, tests): this process.</summary>
    private readonly LeaseOwner _owner = LeaseOwner.InThisProcess(NewOwnerId());

    /// <summary>Layers whose storage steps (look up, lease, record, release) run at once. Each
    /// holds no buffer outside its packing slot, so this bounds only the requests in flight: 16
    /// is far below what one client may send a storage account, and enough to keep the packing
    /// slots fed through a slow link (5 round trips of 300 ms each per layer).</summary>
    public const int StorageConcurrency = 16;

    private readonly PackingPool _packing = new(options.PackConcurrency > 0 ? options.PackConcurrency : Environment.ProcessorCount);

    private readonly SemaphoreSlim _packSlots = new(
        options.PackConcurrency > 0 ? options.PackConcurrency : Environment.ProcessorCount,
        options.PackConcurrency > 0 ? options.PackConcurrency : Environment.ProcessorCount);

    /// <summary>The cache lives as long as its process (a singleton); this stops its packing threads.</summary>
    public void Dispose()
    {
        _packing.Dispose();
        _packSlots.Dispose();
    }

    /// <summary>Every layer, reused or packed, in the order given (the manifest's), leases taken
    /// as this process; <paramref name="layerReady"/> is called as each one is.</summary>
    /// <param name="image">The image's name, for the log.</param>
    public Task<IReadOnlyList<BuiltLayer>> GetAsync(IReadOnlyList<LayerSource> layers, string image, Func<BuiltLayer, CancellationToken, Task> layerReady, CancellationToken ct) =>
        GetAsync(layers, image, _owner, layerReady, ct);

    /// <summary>The lease owner of one attempt of a build in this process (step 2 above).</summary>
    public static LeaseOwner OwnerFor(string imageKey, string jobId, DateTimeOffset attemptStarted) =>
        LeaseOwner.InThisProcess(NewOwnerId(), imageKey, jobId, attemptStarted);

    /// <summary>Every layer, reused or packed, in the order given (the manifest's), leases taken
    /// as <paramref name="owner"/>; <paramref name="layerReady"/> is called as each one is.</summary>
    public async Task<IReadOnlyList<BuiltLayer>> GetAsync(IReadOnlyList<LayerSource> layers, string image, LeaseOwner owner, Func<BuiltLayer, CancellationToken, Task> layerReady, CancellationToken ct)
    {
        var built = new BuiltLayer[layers.Count];
        await Parallel.ForEachAsync(
            layers.Select((layer, index) => (Layer: layer, Index: index)).OrderByDescending(l => l.Layer.Size).ThenBy(l => l.Index),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(StorageConcurrency, _packing.Concurrency), CancellationToken = ct },
            async (l, token) =>
            {
                built[l.Index] = await GetAsync(l.Layer, image, owner, l.Index + 1, layers.Count, token);
                await layerReady(built[l.Index], token);
            });
        return built;
    }

    private static string NewOwnerId() => $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    private async Task<BuiltLayer> GetAsync(LayerSource layer, string image, LeaseOwner owner, int index, int count, CancellationToken ct)
    {
        var waited = false;
        while (true)
        {
            if (await LookUpAsync(layer.Key, ct) is { } cached)
            {
                RegistryTelemetry.LayerLookups.Add(1, new KeyValuePair<string, object?>("result", "hit"));
                logger.LogInformation("reused layer {Layer} {Index}/{Count} of {Image} as {Digest}", layer.Key, index, count, image, cached.Digest);
                return cached;
            }

            await using (var lease = await leases.TryAcquireAsync(StorageLayout.LayerLease(layer.Key), owner, options.LayerClaimStaleAfter, ct))
            {
                if (lease is not null)
                {
                    if (await PackAsync(layer, lease, image, index, count, ct) is { } packed)
                    {
                        return packed;
                    }

                    // Lost: someone else has the layer now; look for it again.
                    continue;
                }
            }

            // The poll's timer starts before the line is written: a reader of the line knows
            // this worker waits on its clock already.
            var poll = Task.Delay(LeasePoll, time, ct);
            if (!waited)
            {
                logger.LogInformation("waiting for layer {Layer} {Index}/{Count} of {Image}: another worker is packing it", layer.Key, index, count, image);
                waited = true;
            }

            await poll;
        }
    }

    /// <summary>Packs and records the layer under the lease; null if the lease was lost meanwhile.</summary>
    private async Task<BuiltLayer?> PackAsync(LayerSource layer, StorageLease lease, string image, int index, int count, CancellationToken ct)
    {
        using var packing = CancellationTokenSource.CreateLinkedTokenSource(ct, lease.Lost);
        using var span = RegistryTelemetry.Source.StartActivity("pack layer");
        span?.SetTag("nixery.layer", layer.Key);
        PackedLayer packed;
        try
        {
            // A packing slot for the packing and the upload only (the top of this file).
            await _packSlots.WaitAsync(packing.Token);
            try
            {
                packed = await store.PutStreamedBlobAsync(s => layer.Pack(s, _packing, packing.Token), p => p.Digest, MediaTypes.DockerLayerGzip, packing.Token);
            }
            finally
            {
                _packSlots.Release();
            }
        }
        catch (OperationCanceledException) when (lease.Lost.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            logger.LogWarning("lost the lease on layer {Layer} {Index}/{Count} of {Image} while packing it; waiting for it or packing it again", layer.Key, index, count, image);
            return null;
        }

        // The blob is in place: recording it is right whoever holds the lease now.
        await store.PutLayerAsync(layer.Key, new LayerRecord(packed.Digest.ToString(), packed.DiffId.ToString(), packed.Size), ct);
        logger.LogInformation("packed layer {Layer} {Index}/{Count} of {Image} as {Digest} ({Size} bytes)", layer.Key, index, count, image, packed.Digest, packed.Size);
        span?.SetTag("nixery.bytes", packed.Size);
        RegistryTelemetry.LayerLookups.Add(1, new KeyValuePair<string, object?>("result", "miss"));
        RegistryTelemetry.BytesPacked.Add(packed.Size);
        return new BuiltLayer(packed.Digest, packed.DiffId, packed.Size);
    }

    /// <summary>The layer-cache entry, if it names a blob that is really there.</summary>
    private async Task<BuiltLayer?> LookUpAsync(string key, CancellationToken ct) =>
        await store.GetLayerAsync(key, ct) is { } cached
            && Digest.TryParse(cached.Digest, out var digest)
            && Digest.TryParse(cached.DiffId, out var diffId)
            && await store.StatBlobAsync(digest.Value, ct) is not null
            ? new BuiltLayer(digest.Value, diffId.Value, cached.Size)
            : null;
}
