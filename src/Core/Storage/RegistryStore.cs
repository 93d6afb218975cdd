// Typed access to the storage layout for the HTTP side and the worker: content-addressed
// blobs, the image index, the layer cache and build status. It owns the ordering rules of
// StorageLayout (blob first, index entry last) so that callers cannot get them wrong.
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Nixery.Core.Manifests;

namespace Nixery.Core.Storage;

public sealed class RegistryStore(IStorageBackend backend)
{
    public IStorageBackend Backend => backend;

    public Task<BlobProperties?> StatBlobAsync(Digest digest, CancellationToken ct) =>
        backend.StatAsync(StorageLayout.Blob(digest), ct);

    public Task<Stream?> OpenBlobAsync(Digest digest, CancellationToken ct) =>
        backend.OpenReadAsync(StorageLayout.Blob(digest), ct);

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
        ReadJsonAsync(StorageLayout.Image(imageKey), CoreJson.Default.ImageRecord, ct);

    /// <summary>The last write of a build: after this the image is visible to every reader.</summary>
    public Task PutImageAsync(string imageKey, ImageRecord record, CancellationToken ct) =>
        WriteJsonAsync(StorageLayout.Image(imageKey), record, CoreJson.Default.ImageRecord, ct);

    /// <summary>The stored referrers of a manifest, or null when it has none.</summary>
    public Task<ReferrersIndex?> GetReferrersAsync(Digest subject, CancellationToken ct) =>
        ReadJsonAsync(StorageLayout.Referrers(subject), CoreJson.Default.ReferrersIndex, ct);

    /// <summary>Written after the artifacts' blobs and before the image entry; the same image
    /// always gives the same index, so a rewrite changes nothing.</summary>
    public Task PutReferrersAsync(Digest subject, ReferrersIndex index, CancellationToken ct) =>
        WriteJsonAsync(StorageLayout.Referrers(subject), index, CoreJson.Default.ReferrersIndex, ct);

    /// <summary>Records that an image of this name was built (for /v2/_catalog); idempotent.</summary>
    public async Task PutCatalogEntryAsync(string imageName, CancellationToken ct)
    {
        var path = StorageLayout.CatalogEntry(imageName);
        if (await backend.StatAsync(path, ct) is null)
        {
            await backend.TryCreateAsync(path, ReadOnlyMemory<byte>.Empty, "text/plain", ct);
        }
    }

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

    public Task<LayerRecord?> GetLayerAsync(string layerKey, CancellationToken ct) =>
        ReadJsonAsync(StorageLayout.Layer(layerKey), CoreJson.Default.LayerRecord, ct);

    public Task PutLayerAsync(string layerKey, LayerRecord record, CancellationToken ct) =>
        WriteJsonAsync(StorageLayout.Layer(layerKey), record, CoreJson.Default.LayerRecord, ct);

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

    public Task<BuildStatus?> GetStatusAsync(string imageKey, CancellationToken ct) =>
        ReadJsonAsync(StorageLayout.Status(imageKey), CoreJson.Default.BuildStatus, ct);

    /// <summary>Every status record's image key with the time the record was last written
    /// (storage's clock), in path order. Lists names only; reading the records is up to the caller.</summary>
    public async IAsyncEnumerable<(string ImageKey, DateTimeOffset Modified)> ListStatusesAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var (path, modified) in backend.ListAsync(StorageLayout.StatusPrefix, ct))
        {
            if (StorageLayout.ImageKeyOfStatus(path) is { } key)
            {
                yield return (key, modified);
            }
        }
    }

    /// <summary>Claims a build: true if no status existed and this caller created "queued".
    /// A stale status (failed and expired, or queued/building past the stale age) is taken over
    /// with an ETag-conditional replace, so that exactly one of several racing callers wins.</summary>
    public async Task<bool> TryClaimBuildAsync(string imageKey, BuildStatus queued, Func<BuildStatus, bool> isStale, CancellationToken ct)
    {
        var path = StorageLayout.Status(imageKey);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(queued, CoreJson.Default.BuildStatus);
        if (await backend.TryCreateAsync(path, bytes, "application/json", ct))
        {
            return true;
        }

        var props = await backend.StatAsync(path, ct);
        var current = await GetStatusAsync(imageKey, ct);
        if (props is null || current is null || !isStale(current))
        {
            return false;
        }

        return await backend.TryReplaceAsync(path, bytes, props.ETag, "application/json", ct);
    }

    public Task SetStatusAsync(string imageKey, BuildStatus status, CancellationToken ct) =>
        WriteJsonAsync(StorageLayout.Status(imageKey), status, CoreJson.Default.BuildStatus, ct);

    /// <summary>The computed popularity document (JSON text), or null if none was stored.</summary>
    public async Task<string?> GetComputedPopularityAsync(CancellationToken ct)
    {
        await using var stream = await backend.OpenReadAsync(StorageLayout.ComputedPopularity, ct);
        return stream is null ? null : await new StreamReader(stream).ReadToEndAsync(ct);
    }

    public Task PutComputedPopularityAsync(ReadOnlyMemory<byte> json, CancellationToken ct) =>
        backend.WriteAsync(StorageLayout.ComputedPopularity, new MemoryStream(json.ToArray()), "application/json", ct);

    /// <summary>The learned popularity document and the ETag to replace it with, or null if none exists yet.
    /// The ETag is read before the content, so a concurrent write makes the later replace fail rather than
    /// silently overwrite what it did not read.</summary>
    public async Task<(string Json, string ETag)?> GetLearnedPopularityAsync(CancellationToken ct)
    {
        var props = await backend.StatAsync(StorageLayout.LearnedPopularity, ct);
        if (props is null)
        {
            return null;
        }

        await using var stream = await backend.OpenReadAsync(StorageLayout.LearnedPopularity, ct);
        return stream is null ? null : (await new StreamReader(stream).ReadToEndAsync(ct), props.ETag);
    }

    /// <summary>Writes the learned popularity document if it is still the one read: created when
    /// <paramref name="expectedETag"/> is null, else replaced only if its ETag is unchanged.
    /// False when another writer got there first (read again and retry).</summary>
    public Task<bool> TryPutLearnedPopularityAsync(ReadOnlyMemory<byte> json, string? expectedETag, CancellationToken ct) =>
        expectedETag is null
            ? backend.TryCreateAsync(StorageLayout.LearnedPopularity, json, "application/json", ct)
            : backend.TryReplaceAsync(StorageLayout.LearnedPopularity, json, expectedETag, "application/json", ct);

    private async Task<T?> ReadJsonAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct)
        where T : class
    {
        await using var stream = await backend.OpenReadAsync(path, ct);
        return stream is null ? null : await JsonSerializer.DeserializeAsync(stream, type, ct);
    }

    private Task WriteJsonAsync<T>(string path, T value, JsonTypeInfo<T> type, CancellationToken ct) =>
        backend.WriteAsync(path, new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(value, type)), "application/json", ct);
}
