// What the OCI 1.1 referrers API serves (distribution-spec "Listing Referrers"): for a
// manifest digest, an image index whose descriptors name the artifacts that have that
// manifest as their subject, each with its artifactType and annotations. The worker stores
// one such index per manifest it builds (StorageLayout.Referrers) before the image entry;
// the HTTP side filters it by artifactType.
using System.Text.Json.Serialization;

namespace Nixery.Core.Manifests;

public sealed record ReferrerDescriptor(
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("artifactType")] string ArtifactType,
    [property: JsonPropertyName("annotations"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Annotations = null);

public sealed record ReferrersIndex(
    [property: JsonPropertyName("schemaVersion")] int SchemaVersion,
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("manifests")] IReadOnlyList<ReferrerDescriptor> Manifests)
{
    public static ReferrersIndex Of(IReadOnlyList<ReferrerDescriptor> manifests) => new(2, MediaTypes.OciIndex, manifests);
}
