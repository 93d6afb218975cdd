// The storage interface every backend implements (filesystem now, Azure Blob next), kept
// small in the manner of Nixery's storage.Backend and distribution's StorageDriver. Paths
// are relative, '/'-separated, and follow StorageLayout. One conformance suite
// (tests/Core.Tests/Storage) runs against every backend.
namespace Nixery.Core.Storage;

public sealed record BlobProperties(long Size, string? ContentType, string ETag);

public interface IStorageBackend
{
    /// <summary>A short name for logs: "filesystem", "azure-blob".</summary>
    string Name { get; }

    /// <summary>Where the storage is, for logs and for the 503 that names it when it cannot be
    /// reached: the folder, or the container and account endpoint. Never a secret.</summary>
    string Location => Name;

    /// <summary>One cheap round trip that succeeds only when the storage can be used, making
    /// what the backend creates lazily (the container) first; throws the backend's own
    /// exception otherwise. StorageHealth calls it; nothing else needs to.</summary>
    Task ProbeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Whether <paramref name="fault"/> (one exception of a chain) says the storage
    /// could not be reached or did not answer, as opposed to a bug or a refused request. The
    /// network exceptions every backend shares are recognised by StorageHealth; a backend adds
    /// its own (the Azure SDK's 5xx, the filesystem's I/O errors).</summary>
    bool IsOutage(Exception fault) => false;

    /// <summary>Size, content type and ETag of the object, or null if it does not exist.</summary>
    Task<BlobProperties?> StatAsync(string path, CancellationToken cancellationToken);

    /// <summary>Opens the object for reading, or returns null if it does not exist.
    /// The stream is seekable on backends that can do it cheaply.</summary>
    Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken);

    /// <summary>Writes the whole object, replacing any previous one. Readers see the old
    /// object or the new one, never a part: content goes to staging first, then moves.</summary>
    Task WriteAsync(string path, Stream content, string? contentType, CancellationToken cancellationToken);

    /// <summary>Writes the object only if nothing is at the path (If-None-Match: *).
    /// Returns false, writing nothing, if it already existed. Atomic across processes.</summary>
    Task<bool> TryCreateAsync(string path, ReadOnlyMemory<byte> content, string? contentType, CancellationToken cancellationToken);

    /// <summary>Replaces the object only if its ETag is still the given one; false if it changed.</summary>
    Task<bool> TryReplaceAsync(string path, ReadOnlyMemory<byte> content, string expectedETag, string? contentType, CancellationToken cancellationToken);

    /// <summary>TryCreateAsync that also says the ETag of what it wrote (null: something was
    /// there; nothing written), so that a caller who will replace or delete its record If-Match
    /// needs no read back (issue 16: a lease cost three round trips to take, now one). The
    /// default reads the ETag back, and is null if the record is no longer these bytes; the
    /// backends answer from the write itself.</summary>
    async Task<string?> TryCreateVersionedAsync(string path, ReadOnlyMemory<byte> content, string? contentType, CancellationToken cancellationToken) =>
        await TryCreateAsync(path, content, contentType, cancellationToken)
            ? await this.ETagIfStillAsync(path, content, cancellationToken)
            : null;

    /// <summary>TryReplaceAsync that also says the ETag of what it wrote (null: it changed, or
    /// is gone; nothing written). The default reads it back, as TryCreateVersionedAsync.</summary>
    async Task<string?> TryReplaceVersionedAsync(string path, ReadOnlyMemory<byte> content, string expectedETag, string? contentType, CancellationToken cancellationToken) =>
        await TryReplaceAsync(path, content, expectedETag, contentType, cancellationToken)
            ? await this.ETagIfStillAsync(path, content, cancellationToken)
            : null;

    /// <summary>Streams an upload of unknown digest into staging/, for a later MoveAsync.</summary>
    Task<IStagedUpload> BeginStagedUploadAsync(CancellationToken cancellationToken);

    /// <summary>Deletes the object; no error if it did not exist.</summary>
    Task DeleteAsync(string path, CancellationToken cancellationToken);

    /// <summary>Deletes the object only if its ETag is still the given one (If-Match); false,
    /// deleting nothing, if it changed or is gone. How a lease is released without removing
    /// a record that another owner wrote since.</summary>
    Task<bool> TryDeleteAsync(string path, string expectedETag, CancellationToken cancellationToken);

    /// <summary>Paths under the prefix, with their last modification time.</summary>
    IAsyncEnumerable<(string Path, DateTimeOffset Modified)> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>A URL a client can fetch the object from directly for a short time, or null:
    /// "stream it yourself" (distribution's StorageDriver.RedirectURL contract).</summary>
    Task<Uri?> GetRedirectUrlAsync(string path, string contentType, CancellationToken cancellationToken);
}

/// <summary>An upload in flight under staging/. Write to Content, then Commit to a final
/// path (content-addressed, so an existing object there is equal and is kept), or Dispose
/// to abandon it. Never referenced by anything until committed.</summary>
public interface IStagedUpload : IAsyncDisposable
{
    Stream Content { get; }

    Task CommitAsync(string finalPath, string? contentType, CancellationToken cancellationToken);
}
