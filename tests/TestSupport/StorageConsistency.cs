// The storage consistency check of the fault tests (issue 16): what a reader may find must be
// whole. Every image record names manifests that are stored and hash to their digests, every
// blob those manifests (and an OCI index's manifests) name is stored and hashes to its digest,
// and every layer record names a stored blob that does. Staging objects, leases and statuses
// are not checked: nothing reads them as content (ARCHITECTURE.md, storage layout).
using System.Security.Cryptography;
using System.Text.Json;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;

namespace Nixery.TestSupport;

public static class StorageConsistency
{
    /// <summary>What is wrong, one line per fault; empty when the storage is consistent. Also
    /// says how many images, blobs and layer records it checked.</summary>
    public static async Task<(IReadOnlyList<string> Faults, int Images, int Blobs, int LayerRecords)> CheckAsync(IStorageBackend backend, CancellationToken ct)
    {
        var faults = new List<string>();
        var checkedBlobs = new HashSet<string>(StringComparer.Ordinal);
        var images = 0;
        var layerRecords = 0;

        await foreach (var (path, _) in backend.ListAsync("images/", ct))
        {
            images++;
            if (await backend.ReadJsonAsync(path, CoreJson.Default.ImageRecord, ct) is not { } record)
            {
                faults.Add($"{path}: listed but cannot be read");
                continue;
            }

            foreach (var variant in record.StoredVariants())
            {
                await CheckManifestAsync(path, variant.Digest);
            }
        }

        await foreach (var (path, _) in backend.ListAsync(StorageLayout.LayerPrefix, ct))
        {
            if (!path.EndsWith(".json", StringComparison.Ordinal))
            {
                continue;
            }

            layerRecords++;
            if (await backend.ReadJsonAsync(path, CoreJson.Default.LayerRecord, ct) is not { } layer)
            {
                faults.Add($"{path}: listed but cannot be read");
                continue;
            }

            await CheckBlobAsync(path, layer.Digest);
        }

        return (faults, images, checkedBlobs.Count, layerRecords);

        async Task CheckManifestAsync(string from, string digest)
        {
            if (await CheckBlobAsync(from, digest) is not { } bytes)
            {
                return;
            }

            using var manifest = JsonDocument.Parse(bytes);
            var root = manifest.RootElement;
            if (root.TryGetProperty("manifests", out var manifests))
            {
                foreach (var entry in manifests.EnumerateArray())
                {
                    await CheckManifestAsync(digest, entry.GetProperty("digest").GetString()!);
                }

                return;
            }

            if (root.TryGetProperty("config", out var config))
            {
                await CheckBlobAsync(digest, config.GetProperty("digest").GetString()!);
            }

            if (root.TryGetProperty("layers", out var layers))
            {
                foreach (var layer in layers.EnumerateArray())
                {
                    await CheckBlobAsync(digest, layer.GetProperty("digest").GetString()!);
                }
            }
        }

        // The blob's bytes if it is stored and hashes to its digest; null (and a fault) otherwise.
        async Task<byte[]?> CheckBlobAsync(string from, string digestText)
        {
            if (!Digest.TryParse(digestText, out var digest))
            {
                faults.Add($"{from}: names {digestText}, which is no digest");
                return null;
            }

            await using var stream = await backend.OpenReadAsync(StorageLayout.Blob(digest.Value), ct);
            if (stream is null)
            {
                faults.Add($"{from}: names {digest}, which is not stored");
                return null;
            }

            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, ct);
            var bytes = copy.ToArray();
            var actual = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (actual != digest.Value.ToString())
            {
                faults.Add($"{from}: {digest} holds bytes that hash to {actual}");
                return null;
            }

            checkedBlobs.Add(actual);
            return bytes;
        }
    }
}
