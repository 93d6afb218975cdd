// Typed access to the storage layout for the HTTP side and the worker: content-addressed
// blobs, the image index, the layer records, referrers and the catalog. It owns the ordering
// rules of StorageLayout (blob first, index entry last) so that callers cannot get them
// wrong, and keeps its backend to itself. The rest of the layout has its own owners: status/ the BuildLedger
// (Core/Builds), leases StorageLease, popularity/ the Builder's PopularityStore. Listing and
// deleting are the GarbageCollector's (Core/Collection), which reads the backend itself.
using System.Runtime.CompilerServices;
using Nixery.Core.Manifests;
using Nixery.Core.Sources;

namespace Nixery.Core.Storage;

public sealed class RegistryStore(IStorageBackend backend)
{
    public Task<BlobProperties?> StatBlobAsync(Digest digest, CancellationToken ct) =>
        backend.StatAsync(StorageLayout.Blob(digest), ct);

    public Task<Stream?> OpenBlobAsync(Digest digest, CancellationToken ct) =>
        backend.OpenReadAsync(StorageLayout.Blob(digest), ct);

    /// <summary>A short-lived URL a client can fetch the blob from itself, or null: stream it
    /// from here (the backend's contract, IStorageBackend.GetRedirectUrlAsync).</summary>
    public Task<Uri?> GetBlobRedirectUrlAsync(Digest digest, string contentType, CancellationToken ct) =>
        backend.GetRedirectUrlAsync(StorageLayout.Blob(digest), contentType, ct);

    /// <summary>Stores a small blob (config, manifest) under its own digest; idempotent. One
    /// create-if-absent, no existence check first: a blob already there is equal, and the
    /// create refuses it in the same round trip (issue 16).</summary>
    public async Task<Digest> PutBlobAsync(ReadOnlyMemory<byte> content, string contentType, CancellationToken ct)
    {
        var digest = Digest.Sha256(content.Span);
        await backend.TryCreateAsync(StorageLayout.Blob(digest), content, contentType, ct);
        return digest;
    }

    /// <summary>Streams a blob whose digest is only known at the end: the producer writes to
    /// the staging stream and returns the digest it computed on the way; the content is then
    /// moved to blobs/. A failing producer leaves nothing but a staging file, deleted here.</summary>
    public async Task<T> PutStreamedBlobAsync<T>(Func<Stream, Task<T>> produce, Func<T, Digest> digestOf, string contentType, CancellationToken ct)
    {
        await using var upload = await backend.BeginStagedUploadAsync(ct);
        var result = await produce(upload.Content);
        await upload.CommitAsync(StorageLayout.Blob(digestOf(result)), contentType, ct);
        return result;
    }

    public Task<ImageRecord?> GetImageAsync(string imageKey, CancellationToken ct) =>
        backend.ReadJsonAsync(StorageLayout.Image(imageKey), CoreJson.Default.ImageRecord, ct);

    /// <summary>Every image record by key and time written (storage's clock), in path order;
    /// reading them is up to the caller (the web page's recent builds and layer sharing).</summary>
    public async IAsyncEnumerable<(string ImageKey, DateTimeOffset Written)> ListImagesAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var (path, modified) in backend.ListAsync(StorageLayout.ImagePrefix, ct))
        {
            if (StorageLayout.ImageKeyOfImage(path) is { } key)
            {
                yield return (key, modified);
            }
        }
    }

    /// <summary>The last write of a build: after this the image is visible to every reader.</summary>
    public Task PutImageAsync(string imageKey, ImageRecord record, CancellationToken ct) =>
        backend.WriteJsonAsync(StorageLayout.Image(imageKey), record, CoreJson.Default.ImageRecord, ct);

    /// <summary>The stored referrers of a manifest, or null when it has none.</summary>
    public Task<ReferrersIndex?> GetReferrersAsync(Digest subject, CancellationToken ct) =>
        backend.ReadJsonAsync(StorageLayout.Referrers(subject), CoreJson.Default.ReferrersIndex, ct);

    /// <summary>Written after the artifacts' blobs and before the image entry; the same image
    /// always gives the same index, so a rewrite changes nothing.</summary>
    public Task PutReferrersAsync(Digest subject, ReferrersIndex index, CancellationToken ct) =>
        backend.WriteJsonAsync(StorageLayout.Referrers(subject), index, CoreJson.Default.ReferrersIndex, ct);

    /// <summary>Records that an image of this name was built (for /v2/_catalog); idempotent.</summary>
    public Task PutCatalogEntryAsync(string imageName, CancellationToken ct) =>
        backend.TryCreateAsync(StorageLayout.CatalogEntry(imageName), ReadOnlyMemory<byte>.Empty, "text/plain", ct);

    /// <summary>Every image name in the catalog, in ordinal order.</summary>
    public async Task<IReadOnlyList<string>> ListCatalogAsync(CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var (path, _) in backend.ListAsync(StorageLayout.CatalogPrefix, ct))
        {
            if (StorageLayout.ImageNameOfCatalogEntry(path) is { } name)
            {
                names.Add(name);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>The attribute index of the source at its revision, or null until a worker has
    /// evaluated that revision.</summary>
    public Task<PackageIndex?> GetPackageIndexAsync(PackageSource source, CancellationToken ct) =>
        backend.ReadJsonAsync(StorageLayout.PackageIndex(source), CoreJson.Default.PackageIndex, ct);

    /// <summary>Written by the worker after it evaluated the source's revision; the same
    /// revision always gives the same index, so a rewrite changes nothing.</summary>
    public Task PutPackageIndexAsync(PackageIndex index, CancellationToken ct) =>
        backend.WriteJsonAsync(StorageLayout.PackageIndex(index.Source), index, CoreJson.Default.PackageIndex, ct);

    /// <summary>The pull record at <paramref name="path"/> (StorageLayout.Pull or ManifestPull), or null.</summary>
    public Task<PullRecord?> GetPullAsync(string path, CancellationToken ct) =>
        backend.ReadJsonAsync(path, CoreJson.Default.PullRecord, ct);

    /// <summary>Overwrites the pull record: the newest pull wins, and an older one lost in a race
    /// is less than an hour older (PullRecorder.Resolution).</summary>
    public Task PutPullAsync(string path, PullRecord record, CancellationToken ct) =>
        backend.WriteJsonAsync(path, record, CoreJson.Default.PullRecord, ct);

    public Task<LayerRecord?> GetLayerAsync(string layerKey, CancellationToken ct) =>
        backend.ReadJsonAsync(StorageLayout.Layer(layerKey), CoreJson.Default.LayerRecord, ct);

    public Task PutLayerAsync(string layerKey, LayerRecord record, CancellationToken ct) =>
        backend.WriteJsonAsync(StorageLayout.Layer(layerKey), record, CoreJson.Default.LayerRecord, ct);
}
