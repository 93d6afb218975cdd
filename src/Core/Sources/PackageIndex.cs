// The attribute index of one package set at one revision: the package names an image name may
// use, with their version and description. The worker writes it once it has evaluated that
// revision (issue 13: names that cannot build are refused before a job is queued); the HTTP
// side reads it to answer unknown packages with 404 and the landing page to search packages.
// It is keyed like an image's source (ImageKeys: kind and revision), so a new revision has no
// index until a worker has evaluated it, and until then nothing is refused on its account.
using System.Text.Json.Serialization;

namespace Nixery.Core.Sources;

/// <summary>indexes/&lt;key&gt;.json — the packages of <paramref name="Source"/>, sorted by
/// name (ordinal), and the meta-package names of its nixery.json (such as "shell"), which are
/// not attributes but are valid in image names.</summary>
public sealed record PackageIndex(
    [property: JsonPropertyName("source")] PackageSource Source,
    [property: JsonPropertyName("packages")] IReadOnlyList<IndexedPackage> Packages,
    [property: JsonPropertyName("metaPackages")] IReadOnlyList<string> MetaPackages);

/// <summary>One top-level attribute of the package set. A dotted image component
/// ("python3Packages.numpy") is checked by its first part only.</summary>
public sealed record IndexedPackage(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("description")] string? Description);
