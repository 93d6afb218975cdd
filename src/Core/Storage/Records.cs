// The small JSON records kept beside the blobs (see StorageLayout): the image index entry
// that makes an image visible, the layer-cache entry that lets a layer be packed once, and
// the build status that tells a waiting client how its build went.
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

[JsonConverter(typeof(JsonStringEnumConverter<BuildState>))]
public enum BuildState
{
    Queued,
    Building,
    Failed,
    Done,
}

/// <summary>status/&lt;image-key&gt;.json — what the HTTP side tells a client that waits.
/// A failed status also names the image (its sorted name, e.g. "git/shell"), so that the list
/// of recent failures can say which image failed; records written before Image existed lack
/// it and read as null. While a worker packs layers it records its progress (layers ready of
/// the image's total, and since when it packs), from which the HTTP side estimates the time
/// left (BuildCoordinator).</summary>
public sealed record BuildStatus(
    [property: JsonPropertyName("state")] BuildState State,
    [property: JsonPropertyName("updated")] DateTimeOffset Updated,
    [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null,
    [property: JsonPropertyName("missing"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Missing = null,
    [property: JsonPropertyName("log"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? LogTail = null,
    [property: JsonPropertyName("image"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Image = null,
    [property: JsonPropertyName("layersReady"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? LayersReady = null,
    [property: JsonPropertyName("layersTotal"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? LayersTotal = null,
    [property: JsonPropertyName("packingSince"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? PackingSince = null);
