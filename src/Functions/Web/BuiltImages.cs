// The images this registry has built, as the web page needs them: the recent builds with their
// time, and, for the picture of an image's layers, how many images hold each layer. A layer is
// shared when the default manifests of several images name the same layer digest (layers are
// deterministic and content-addressed, so equal digests are equal store-path sets).
//
// Cost. images/ grows with every image ever built, and reading an image's layers means
// reading its record and its manifest blob, so one scan is:
//   1. list images/ — names and last-modified times only;
//   2. of the newest MaxScanned, read the record and its default manifest (two small reads each);
// and the scan is kept for CacheFor per instance and refreshed by one request at a time, so a
// busy page costs one scan per CacheFor. Sharing counts therefore cover the newest MaxScanned
// images only, and a build shows up in them at most CacheFor late; the picture of an image
// counts the image itself from its own manifest, whatever the scan holds.
using System.Text.Json;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;
using Nixery.Functions.Hosting;

namespace Nixery.Functions.Web;

/// <summary>One built image: its key, when its record was written, its packages and the layer
/// digests of its default manifest (empty when the manifest could not be read).</summary>
public sealed record BuiltImage(string Key, DateTimeOffset Written, IReadOnlyList<string> Packages, IReadOnlyList<string> Layers);

public sealed class BuiltImages(RegistryStore store, TimeProvider time, ILogger<BuiltImages> logger) : IDisposable
{
    /// <summary>The most image records one scan reads, newest first.</summary>
    public const int MaxScanned = 1000;

    /// <summary>Manifests are small; anything larger is not one of ours.</summary>
    private const long MaxManifestSize = 4 * 1024 * 1024;

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    private readonly CachedRead<Snapshot> _cached = new(CacheFor, time);

    /// <summary>The newest built images, newest first, at most <paramref name="count"/>.</summary>
    public async Task<IReadOnlyList<BuiltImage>> RecentAsync(int count, CancellationToken ct) =>
        [.. (await GetAsync(ct)).Images.Take(count)];

    /// <summary>How many scanned images other than <paramref name="imageKey"/> hold each layer digest.</summary>
    public async Task<Func<string, int>> OthersHoldingAsync(string imageKey, CancellationToken ct)
    {
        var snapshot = await GetAsync(ct);
        var own = snapshot.Images.FirstOrDefault(i => i.Key == imageKey)?.Layers.ToHashSet(StringComparer.Ordinal) ?? [];
        return digest => snapshot.Holders.GetValueOrDefault(digest) - (own.Contains(digest) ? 1 : 0);
    }

    /// <summary>The default manifest of an image record, or null if it cannot be read as one.</summary>
    public async Task<ImageManifest?> ManifestAsync(ImageRecord record, CancellationToken ct)
    {
        if (!Digest.TryParse(record.Digest, out var digest))
        {
            return null;
        }

        return await ReadJsonBlobAsync(digest.Value, CoreJson.Default.ImageManifest, ct);
    }

    /// <summary>A small JSON blob (manifest, config), or null when it is missing, too large or not that JSON.</summary>
    public async Task<T?> ReadJsonBlobAsync<T>(Digest digest, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct)
        where T : class
    {
        if (await store.StatBlobAsync(digest, ct) is not { } props || props.Size > MaxManifestSize)
        {
            return null;
        }

        await using var stream = await store.OpenBlobAsync(digest, ct);
        if (stream is null)
        {
            return null;
        }

        try
        {
            return await JsonSerializer.DeserializeAsync(stream, type, ct);
        }
        catch (JsonException e)
        {
            logger.LogWarning("blob {Digest} is not the JSON expected: {Error}", digest, e.Message);
            return null;
        }
    }

    private Task<Snapshot> GetAsync(CancellationToken ct) => _cached.GetAsync((_, token) => ScanAsync(token), ct);

    private async Task<Snapshot> ScanAsync(CancellationToken ct)
    {
        var entries = new List<(string Key, DateTimeOffset Written)>();
        await foreach (var entry in store.ListImagesAsync(ct))
        {
            entries.Add(entry);
        }

        var images = new List<BuiltImage>();
        var holders = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (key, written) in entries.OrderByDescending(e => e.Written).ThenBy(e => e.Key, StringComparer.Ordinal).Take(MaxScanned))
        {
            ImageRecord? record;
            try
            {
                record = await store.GetImageAsync(key, ct);
            }
            catch (JsonException e)
            {
                logger.LogWarning("skipping unreadable image record {ImageKey}: {Error}", key, e.Message);
                continue;
            }

            if (record is null)
            {
                continue;
            }

            var layers = (await ManifestAsync(record, ct))?.Layers.Select(l => l.Digest).Distinct(StringComparer.Ordinal).ToList() ?? [];
            foreach (var layer in layers)
            {
                holders[layer] = holders.GetValueOrDefault(layer) + 1;
            }

            images.Add(new BuiltImage(key, written, record.Packages, layers));
        }

        return new Snapshot(images, holders);
    }

    private sealed record Snapshot(IReadOnlyList<BuiltImage> Images, IReadOnlyDictionary<string, int> Holders);

    public void Dispose() => _cached.Dispose();
}
