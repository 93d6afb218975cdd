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

/// <param name="ArtifactType">OCI 1.1: what an artifact manifest holds (an SBOM); null for an image.
/// Written after mediaType, as image-spec orders it (JsonPropertyOrder).</param>
/// <param name="Subject">OCI 1.1: the manifest an artifact is about, which lists it among its referrers.</param>
/// <param name="Annotations">OCI only (the Docker schema has none); sorted by key so the bytes are fixed.</param>
public sealed record ImageManifest(
    [property: JsonPropertyName("schemaVersion"), JsonPropertyOrder(-1)] int SchemaVersion,
    [property: JsonPropertyName("mediaType"), JsonPropertyOrder(-1)] string MediaType,
    [property: JsonPropertyName("config")] Descriptor Config,
    [property: JsonPropertyName("layers")] IReadOnlyList<Descriptor> Layers,
    [property: JsonPropertyName("artifactType"), JsonPropertyOrder(-1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ArtifactType = null,
    [property: JsonPropertyName("subject"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Descriptor? Subject = null,
    [property: JsonPropertyName("annotations"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Annotations = null);

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

/// <summary>Image config; see the OCI image-spec config.md. "created" is a fixed time
/// (ImageConfigWriter.Created), never the build's: the config is hashed.</summary>
public sealed record ImageConfig(
    [property: JsonPropertyName("created")] string Created,
    [property: JsonPropertyName("architecture")] string Architecture,
    [property: JsonPropertyName("os")] string Os,
    [property: JsonPropertyName("config")] ContainerConfig Config,
    [property: JsonPropertyName("rootfs")] RootFs RootFs,
    [property: JsonPropertyName("history")] IReadOnlyList<HistoryEntry> History);

public sealed record ContainerConfig(
    [property: JsonPropertyName("User"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? User,
    [property: JsonPropertyName("Env")] IReadOnlyList<string> Env,
    [property: JsonPropertyName("Cmd"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Cmd);

/// <summary>One entry of the config's history per layer, in layer order (what `docker history`
/// and `podman history` show).</summary>
public sealed record HistoryEntry(
    [property: JsonPropertyName("created")] string Created,
    [property: JsonPropertyName("created_by")] string CreatedBy,
    [property: JsonPropertyName("comment")] string Comment);

public sealed record RootFs(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("diff_ids")] IReadOnlyList<string> DiffIds);
