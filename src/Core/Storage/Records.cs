// The small JSON records kept beside the blobs (see StorageLayout): the image index entry
// that makes an image visible and the layer-cache entry that lets a layer be packed once.
// The build status is the build ledger's (Builds/BuildStatus.cs), the lease record the
// lease's (StorageLease.cs).
using System.Text.Json.Serialization;

namespace Nixery.Core.Storage;

/// <summary>images/&lt;image-key&gt;.json — written last, after every blob it names.
/// Digest, MediaType and Size name the default manifest (Docker schema 2, which every client
/// understands); Variants lists every stored manifest of the image, the default first, so a
/// manifest request can pick the one the client's Accept header prefers. A record without
/// Variants (written before they existed) has the default only.</summary>
public sealed record ImageRecord(
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("packages")] IReadOnlyList<string> Packages,
    [property: JsonPropertyName("variants"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ManifestVariant>? Variants = null)
{
    /// <summary>The stored manifests, default first; never empty.</summary>
    public IReadOnlyList<ManifestVariant> StoredVariants() =>
        Variants is { Count: > 0 } variants ? variants : [new ManifestVariant(MediaType, Digest, Size)];
}

/// <summary>One stored manifest of an image: the same config and layers, described under
/// one family of media types (Docker schema 2 or OCI).</summary>
public sealed record ManifestVariant(
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("size")] long Size);

/// <summary>layers/&lt;layer-key&gt;.json — the packed form of one set of store paths.</summary>
public sealed record LayerRecord(
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("diffId")] string DiffId,
    [property: JsonPropertyName("size")] long Size);

/// <summary>pulls/&lt;image-key&gt;.json and pulls/sha256/&lt;hex&gt;.json — when an image (by tag) or a
/// manifest (by digest) was last pulled, by the HTTP side's clock, and the image's name (sorted,
/// as in the catalog) when it is known. Written at most once an hour per image and instance
/// (PullRecorder); the collector keeps images pulled within NIXERY_RETENTION.</summary>
public sealed record PullRecord(
    [property: JsonPropertyName("pulled")] DateTimeOffset Pulled,
    [property: JsonPropertyName("image"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Image = null);
