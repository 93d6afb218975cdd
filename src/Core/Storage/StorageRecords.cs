// How the small JSON records beside the blobs (image and layer records, build status, leases,
// learned popularity) are read and written, kept here once instead of in each owner: plain
// reads and overwrites, and the two ETag patterns of the records that several writers share:
//
//   read with version   the ETag is read BEFORE the content, so a replace conditional on it
//                       fails if anything changed after the read began, never overwriting a
//                       version its writer did not see (the backend has no read-with-ETag);
//   create or take over create if absent (If-None-Match: *); else, if the present record may
//                       be taken over (stale, expired), replace it If-Match its ETag. Of
//                       several racing callers exactly one wins, whichever backend.
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Nixery.Core.Storage;

/// <summary>A record's bytes with the ETag to replace it (or delete it) conditionally.</summary>
public sealed record VersionedContent(byte[] Content, string ETag);

public static class StorageRecords
{
    /// <summary>The record at <paramref name="path"/>, or null if there is none.</summary>
    public static async Task<T?> ReadJsonAsync<T>(this IStorageBackend backend, string path, JsonTypeInfo<T> type, CancellationToken ct)
        where T : class
    {
        await using var stream = await backend.OpenReadAsync(path, ct);
        return stream is null ? null : await JsonSerializer.DeserializeAsync(stream, type, ct);
    }

    /// <summary>Writes the record whole, replacing any (readers see the old one or the new one).</summary>
    public static Task WriteJsonAsync<T>(this IStorageBackend backend, string path, T value, JsonTypeInfo<T> type, CancellationToken ct) =>
        backend.WriteAsync(path, new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(value, type)), "application/json", ct);

    /// <summary>The record and the ETag to replace it with, or null if there is none.</summary>
    public static async Task<VersionedContent?> ReadVersionedAsync(this IStorageBackend backend, string path, CancellationToken ct)
    {
        if (await backend.StatAsync(path, ct) is not { } props)
        {
            return null;
        }

        await using var stream = await backend.OpenReadAsync(path, ct);
        if (stream is null)
        {
            return null;
        }

        using var content = new MemoryStream();
        await stream.CopyToAsync(content, ct);
        return new VersionedContent(content.ToArray(), props.ETag);
    }

    /// <summary>The ETag of the record if it still holds exactly <paramref name="written"/>, else null:
    /// the read-back a backend that cannot say the ETag of its own write falls back on.</summary>
    public static async Task<string?> ETagIfStillAsync(this IStorageBackend backend, string path, ReadOnlyMemory<byte> written, CancellationToken ct) =>
        await backend.ReadVersionedAsync(path, ct) is { } read && read.Content.AsSpan().SequenceEqual(written.Span) ? read.ETag : null;

    /// <summary>TryCreateOrTakeOverAsync that says the ETag this caller's record was written
    /// with (null: it is not the record), from the write itself: one round trip when nothing
    /// was there, the read and the conditional replace when something was.</summary>
    public static async Task<string?> TryCreateOrTakeOverVersionedAsync(
        this IStorageBackend backend, string path, ReadOnlyMemory<byte> content, Func<byte[], bool> mayTakeOver, CancellationToken ct)
    {
        if (await backend.TryCreateVersionedAsync(path, content, "application/json", ct) is { } created)
        {
            return created;
        }

        if (await backend.ReadVersionedAsync(path, ct) is not { } present)
        {
            // Deleted between the create and the read (a lease released): one more create.
            return await backend.TryCreateVersionedAsync(path, content, "application/json", ct);
        }

        return mayTakeOver(present.Content)
            ? await backend.TryReplaceVersionedAsync(path, content, present.ETag, "application/json", ct)
            : null;
    }

    /// <summary>Writes <paramref name="content"/> if no record is at the path, or replaces the
    /// present one if <paramref name="mayTakeOver"/> says so of its bytes, conditional on the
    /// ETag it was read with. True if this caller's content is now the record.</summary>
    public static async Task<bool> TryCreateOrTakeOverAsync(
        this IStorageBackend backend, string path, ReadOnlyMemory<byte> content, Func<byte[], bool> mayTakeOver, CancellationToken ct)
    {
        if (await backend.TryCreateAsync(path, content, "application/json", ct))
        {
            return true;
        }

        if (await backend.ReadVersionedAsync(path, ct) is not { } present)
        {
            // Deleted between the create and the read (a lease released): one more create.
            return await backend.TryCreateAsync(path, content, "application/json", ct);
        }

        return mayTakeOver(present.Content) && await backend.TryReplaceAsync(path, content, present.ETag, "application/json", ct);
    }

    /// <summary>The record in <paramref name="content"/>, or null if it is not one: a record
    /// nobody can read stands for nothing, so the takeover rules treat it as stale.</summary>
    public static T? ParseOrNull<T>(byte[] content, JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(content, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
