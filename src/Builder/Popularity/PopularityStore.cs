// The popularity documents in the registry's storage, for the build side only (the HTTP side
// never reads them): popularity/computed.json, written whole by the worker host's
// `popularity --store` command, and popularity/learned.json, which every worker updates after
// each image it builds with an ETag-conditional read-modify-write (PopularitySource), so that
// concurrent workers never overwrite a count they did not see.
using System.Text;
using Nixery.Core.Storage;

namespace Nixery.Builder.PopularityData;

/// <summary>learned.json as read, with the ETag its replacement must be conditional on.</summary>
public sealed record LearnedPopularity(string Json, string ETag);

public sealed class PopularityStore(IStorageBackend backend)
{
    /// <summary>The computed popularity document (JSON text), or null if none was stored.</summary>
    public async Task<string?> GetComputedAsync(CancellationToken ct) =>
        await backend.ReadVersionedAsync(StorageLayout.ComputedPopularity, ct) is { } read ? Encoding.UTF8.GetString(read.Content) : null;

    public Task PutComputedAsync(ReadOnlyMemory<byte> json, CancellationToken ct) =>
        backend.WriteAsync(StorageLayout.ComputedPopularity, new MemoryStream(json.ToArray()), "application/json", ct);

    /// <summary>The learned popularity document and its ETag, or null if none exists yet.</summary>
    public async Task<LearnedPopularity?> GetLearnedAsync(CancellationToken ct) =>
        await backend.ReadVersionedAsync(StorageLayout.LearnedPopularity, ct) is { } read ? new LearnedPopularity(Encoding.UTF8.GetString(read.Content), read.ETag) : null;

    /// <summary>Writes the learned popularity document if it is still the one read: created when
    /// <paramref name="expectedETag"/> is null, else replaced only if its ETag is unchanged.
    /// False when another writer got there first (read again and retry).</summary>
    public Task<bool> TryPutLearnedAsync(ReadOnlyMemory<byte> json, string? expectedETag, CancellationToken ct) =>
        expectedETag is null
            ? backend.TryCreateAsync(StorageLayout.LearnedPopularity, json, "application/json", ct)
            : backend.TryReplaceAsync(StorageLayout.LearnedPopularity, json, expectedETag, "application/json", ct);
}
