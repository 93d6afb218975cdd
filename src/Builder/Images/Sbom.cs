// The software bill of materials of an image: a CycloneDX 1.5 JSON document listing every
// store path the image holds — which is exactly its runtime closure, so nothing is guessed —
// with the name and version Nix's own parseDrvName gives the path, its Nix hash (the store
// path's hash part) and NAR hash (SHA-256 of its contents, as hex), the licences the package
// set states for it (prepare-image.nix), and the references between paths as CycloneDX
// dependencies. The requested packages are "application" components, the rest "library".
//
// Why CycloneDX 1.5 rather than SPDX 2.3: it needs no creation time or document namespace (an
// SPDX document must carry both, and every field here must be the same on every machine), and
// it has free properties for the Nix-specific fields. The schema the tests validate against is
// the CycloneDX specification's, vendored in tests/TestSupport/Schemas.
//
// The document is attached to each of the image's manifests as an OCI artifact (an OCI
// manifest whose artifactType is application/vnd.cyclonedx+json, whose config is the empty
// descriptor and whose one layer is this document), found through the referrers API.
using System.Text.Json;
using System.Text.Json.Serialization;
using Nixery.Builder.Nix;

namespace Nixery.Builder.Images;

public sealed record SbomDocument(
    [property: JsonPropertyName("bomFormat")] string BomFormat,
    [property: JsonPropertyName("specVersion")] string SpecVersion,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("metadata")] SbomMetadata Metadata,
    [property: JsonPropertyName("components")] IReadOnlyList<SbomComponent> Components,
    [property: JsonPropertyName("dependencies")] IReadOnlyList<SbomDependency> Dependencies);

public sealed record SbomMetadata(
    [property: JsonPropertyName("tools")] SbomTools Tools,
    [property: JsonPropertyName("component")] SbomImage Component);

public sealed record SbomTools([property: JsonPropertyName("components")] IReadOnlyList<SbomTool> Components);

public sealed record SbomTool(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("name")] string Name);

public sealed record SbomImage(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("bom-ref")] string BomRef,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("properties")] IReadOnlyList<SbomProperty> Properties);

public sealed record SbomComponent(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("bom-ref")] string BomRef,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Version,
    [property: JsonPropertyName("hashes"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<SbomHash>? Hashes,
    [property: JsonPropertyName("licenses"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<SbomLicenseChoice>? Licenses,
    [property: JsonPropertyName("properties")] IReadOnlyList<SbomProperty> Properties);

public sealed record SbomHash(
    [property: JsonPropertyName("alg")] string Alg,
    [property: JsonPropertyName("content")] string Content);

public sealed record SbomLicenseChoice([property: JsonPropertyName("license")] SbomLicense License);

public sealed record SbomLicense(
    [property: JsonPropertyName("id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Id,
    [property: JsonPropertyName("name"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name);

public sealed record SbomProperty(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("value")] string Value);

public sealed record SbomDependency(
    [property: JsonPropertyName("ref")] string Ref,
    [property: JsonPropertyName("dependsOn")] IReadOnlyList<string> DependsOn);

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(SbomDocument))]
internal sealed partial class SbomJson : JsonSerializerContext;

public static class Sbom
{
    public const string SpecVersion = "1.5";

    /// <summary>The image component's bom-ref (the top-level packages are its dependencies).</summary>
    public const string ImageRef = "image";

    /// <param name="imageName">The image's sorted name ("git/shell").</param>
    /// <param name="system">The Nix system the paths were built for.</param>
    /// <param name="graph">Every store path of the image with its references.</param>
    /// <param name="topLevel">The requested packages' output paths.</param>
    /// <param name="licenses">Output path → licences, where the package set knows them.</param>
    public static byte[] Write(
        string imageName,
        string system,
        RuntimeGraph graph,
        IReadOnlyList<string> topLevel,
        IReadOnlyDictionary<string, IReadOnlyList<PackageLicense>>? licenses)
    {
        var top = topLevel.ToHashSet(StringComparer.Ordinal);
        var paths = graph.Paths.OrderBy(p => p.Path, StringComparer.Ordinal).ToList();
        var components = paths.Select(p => Component(p, top.Contains(p.Path), licenses?.GetValueOrDefault(p.Path))).ToList();
        var dependencies = new List<SbomDependency>
        {
            new(ImageRef, [.. topLevel.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]),
        };
        dependencies.AddRange(paths.Select(p => new SbomDependency(p.Path, [.. p.References.Where(r => r != p.Path).Order(StringComparer.Ordinal)])));
        var document = new SbomDocument(
            "CycloneDX",
            SpecVersion,
            1,
            new SbomMetadata(
                new SbomTools([new SbomTool("application", "nixery-on-azure")]),
                new SbomImage("container", ImageRef, imageName, [new SbomProperty("nix:system", system)])),
            components,
            dependencies);
        return JsonSerializer.SerializeToUtf8Bytes(document, SbomJson.Default.SbomDocument);
    }

    private static SbomComponent Component(StorePathInfo path, bool topLevel, IReadOnlyList<PackageLicense>? licenses)
    {
        var (package, version) = StorePaths.PackageAndVersion(path.Path);
        var narHex = NarHash.ToHex(path.NarHash);
        List<SbomProperty> properties = [new("nix:store_path", path.Path), new("nix:hash", StorePaths.HashPart(path.Path))];
        if (path.NarHash is { } narHash)
        {
            properties.Add(new("nix:nar_hash", narHash));
        }

        return new SbomComponent(
            topLevel ? "application" : "library",
            path.Path,
            package,
            version.Length > 0 ? version : null,
            narHex is null ? null : [new SbomHash("SHA-256", narHex)],
            licenses is { Count: > 0 } ? [.. licenses.Select(l => new SbomLicenseChoice(l.SpdxId is { } id ? new SbomLicense(id, null) : new SbomLicense(null, l.Name)))] : null,
            properties);
    }
}
