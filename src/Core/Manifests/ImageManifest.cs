// The JSON documents of an image: the manifest (Docker schema 2 or OCI image manifest — the
// same shape, told apart by mediaType and the descriptors' media types), its descriptors,
// and the image config. Property order is the serialisation order, and the serialiser writes no
// whitespace, so the same values always give the same bytes and the same digest.
using System.Text.Json.Serialization;

namespace Nixery.Core.Manifests;

public sealed record Descriptor(
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("digest")] string Digest);

public sealed record ImageManifest(
    [property: JsonPropertyName("schemaVersion")] int SchemaVersion,
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("config")] Descriptor Config,
    [property: JsonPropertyName("layers")] IReadOnlyList<Descriptor> Layers);

/// <summary>An OCI image index: one manifest per platform of a multi-system image
/// (image-spec image-index.md; platform.architecture uses Go's names, amd64 and arm64).</summary>
public sealed record ImageIndex(
    [property: JsonPropertyName("schemaVersion")] int SchemaVersion,
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("manifests")] IReadOnlyList<PlatformDescriptor> Manifests);

public sealed record PlatformDescriptor(
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("platform")] Platform Platform);

public sealed record Platform(
    [property: JsonPropertyName("architecture")] string Architecture,
    [property: JsonPropertyName("os")] string Os);

/// <summary>Image config; see the OCI image-spec config.md. No "created": it would break determinism.</summary>
public sealed record ImageConfig(
    [property: JsonPropertyName("architecture")] string Architecture,
    [property: JsonPropertyName("os")] string Os,
    [property: JsonPropertyName("config")] ContainerConfig Config,
    [property: JsonPropertyName("rootfs")] RootFs RootFs);

public sealed record ContainerConfig(
    [property: JsonPropertyName("Env")] IReadOnlyList<string> Env,
    [property: JsonPropertyName("Cmd"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Cmd);

public sealed record RootFs(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("diff_ids")] IReadOnlyList<string> DiffIds);
