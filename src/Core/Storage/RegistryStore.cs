// Typed access to the storage layout for the HTTP side and the worker: content-addressed
// blobs, the image index and the layer cache. It owns the ordering rules of StorageLayout
// (blob first, index entry last) so that callers cannot get them wrong, and keeps its
// backend to itself. The rest of the layout has its own owners: status/ the BuildLedger
// (Core/Builds), popularity/ the Builder's PopularityStore.
using Nixery.Core.Manifests;

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

    /// <summary>Stores a small blob (config, manifest) under its own digest; idempotent.</summary>
    public async Task<Digest> PutBlobAsync(ReadOnlyMemory<byte> content, string contentType, CancellationToken ct)
    {
        var digest = Digest.Sha256(content.Span);
        var path = StorageLayout.Blob(digest);
        if (await backend.StatAsync(path, ct) is null)
        {
            await backend.TryCreateAsync(path, content, contentType, ct);
        }

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

    /// <summary>The last write of a build: after this the image is visible to every reader.</summary>
    public Task PutImageAsync(string imageKey, ImageRecord record, CancellationToken ct) =>
        backend.WriteJsonAsync(StorageLayout.Image(imageKey), record, CoreJson.Default.ImageRecord, ct);

    public Task<LayerRecord?> GetLayerAsync(string layerKey, CancellationToken ct) =>
        backend.ReadJsonAsync(StorageLayout.Layer(layerKey), CoreJson.Default.LayerRecord, ct);

    public Task PutLayerAsync(string layerKey, LayerRecord record, CancellationToken ct) =>
        backend.WriteJsonAsync(StorageLayout.Layer(layerKey), record, CoreJson.Default.LayerRecord, ct);

    /// <summary>Claims the packing of a layer so that two workers do not pack the same one at
    /// once: true if this caller may pack it now. A claim older than <paramref name="staleAfter"/>
    /// belongs to a worker that died and is taken over (ETag-conditional, one winner). Losing a
    /// claim only costs waiting: layers are content-addressed, so a race still ends correctly.</summary>
    public async Task<bool> TryClaimLayerAsync(string layerKey, string owner, DateTimeOffset now, TimeSpan staleAfter, CancellationToken ct)
    {
        var path = StorageLayout.LayerClaim(layerKey);
        var claim = System.Text.Encoding.UTF8.GetBytes($"{owner} {now.ToUnixTimeMilliseconds()}");
        if (await backend.TryCreateAsync(path, claim, "text/plain", ct))
        {
            return true;
        }

        var props = await backend.StatAsync(path, ct);
        if (props is null)
        {
            // Released between our create and our look: try once more.
            return await backend.TryCreateAsync(path, claim, "text/plain", ct);
        }

        await using var stream = await backend.OpenReadAsync(path, ct);
        var text = stream is null ? "" : await new StreamReader(stream).ReadToEndAsync(ct);
        var at = long.TryParse(text[(text.LastIndexOf(' ') + 1)..], out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : DateTimeOffset.MinValue;
        return now - at > staleAfter && await backend.TryReplaceAsync(path, claim, props.ETag, "text/plain", ct);
    }

    /// <summary>Keeps a held claim fresh while the layer is packed.</summary>
    public Task RenewLayerClaimAsync(string layerKey, string owner, DateTimeOffset now, CancellationToken ct) =>
        backend.WriteAsync(StorageLayout.LayerClaim(layerKey), new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"{owner} {now.ToUnixTimeMilliseconds()}")), "text/plain", ct);

    public Task ReleaseLayerClaimAsync(string layerKey, CancellationToken ct) =>
        backend.DeleteAsync(StorageLayout.LayerClaim(layerKey), ct);
}
