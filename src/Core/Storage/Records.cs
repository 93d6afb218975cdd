// The small JSON records kept beside the blobs (see StorageLayout): the image index entry
// that makes an image visible, the layer-cache entry that lets a layer be packed once, and
// the build status that tells a waiting client how its build went.
using System.Text.Json.Serialization;

namespace Nixery.Core.Storage;

/// <summary>images/&lt;image-key&gt;.json — written last, after every blob it names.</summary>
public sealed record ImageRecord(
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("packages")] IReadOnlyList<string> Packages);

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

/// <summary>status/&lt;image-key&gt;.json — what the HTTP side tells a client that waits.</summary>
public sealed record BuildStatus(
    [property: JsonPropertyName("state")] BuildState State,
    [property: JsonPropertyName("updated")] DateTimeOffset Updated,
    [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null,
    [property: JsonPropertyName("missing"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Missing = null,
    [property: JsonPropertyName("log"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? LogTail = null);
