// Where everything lives, in one container (Azure) or one folder (filesystem):
//
//   blobs/sha256/<hex>        immutable, content-addressed: layers, configs, manifests
//   images/<image-key>.json   image key → manifest digest, media type, size (written last)
//   layers/<layer-key>.json   layer cache: hash of a layer's store-path set → digest, diff_id, size
//   layers/<layer-key>.lease  a worker is packing that layer: {owner, expires, build, job, attempt,
//                             host, pid, process} (StorageLease)
//   status/<image-key>.json   queued | building | failed (+ image, reason, missing packages, log tail) | done
//                             (BuildLedger, which writes up the states and who moves them)
//   staging/<id>              uploads in flight; never referenced; swept when stale
//   popularity/computed.json  package name → reference count, from the worker host's `popularity --store`
//   popularity/learned.json   package name → how many built images held it (ETag read-modify-write)
//   referrers/sha256/<hex>.json  the referrers of a manifest (an OCI index of its SBOM artifacts)
//   catalog/<name>.name       an image name this registry has built, for /v2/_catalog (empty)
//   indexes/<source-key>.json the attribute index of a package source at a revision (PackageIndex)
//
// Write order is what keeps readers safe: blobs first, the manifest blob next, the referrers
// and the catalog entry, the image entry last, so an image entry never names a blob that is
// not there.
using Nixery.Core.Manifests;
using Nixery.Core.Sources;

namespace Nixery.Core.Storage;

public static class StorageLayout
{
    public const string StagingPrefix = "staging/";

    public static string Blob(Digest digest) => $"blobs/{digest.Algorithm}/{digest.Hex}";

    public static string Image(string imageKey) => $"{ImagePrefix}{imageKey}.json";

    public const string ImagePrefix = "images/";

    /// <summary>The image key of an image record's path, or null if the path is not one.</summary>
    public static string? ImageKeyOfImage(string path) =>
        path.StartsWith(ImagePrefix, StringComparison.Ordinal) && path.EndsWith(".json", StringComparison.Ordinal) && path.Length > ImagePrefix.Length + ".json".Length
            ? path[ImagePrefix.Length..^".json".Length]
            : null;

    public static string Layer(string layerKey) => $"layers/{layerKey}.json";

    /// <summary>The lease of the worker packing a layer. Not ".claim": claims of older workers
    /// were "owner ms" text, and a different name keeps the two formats from meeting.</summary>
    public static string LayerLease(string layerKey) => $"layers/{layerKey}{LeaseSuffix}";

    /// <summary>How every lease record's path ends (StorageLease).</summary>
    public const string LeaseSuffix = ".lease";

    public const string LayerPrefix = "layers/";

    public const string StatusPrefix = "status/";

    public static string Status(string imageKey) => $"{StatusPrefix}{imageKey}.json";

    /// <summary>The image key of a status path, or null if the path is not one.</summary>
    public static string? ImageKeyOfStatus(string path) =>
        path.StartsWith(StatusPrefix, StringComparison.Ordinal) && path.EndsWith(".json", StringComparison.Ordinal) && path.Length > StatusPrefix.Length + ".json".Length
            ? path[StatusPrefix.Length..^".json".Length]
            : null;

    public static string Staging(string id) => StagingPrefix + id;

    /// <summary>The referrers index of the manifest <paramref name="subject"/>.</summary>
    public static string Referrers(Digest subject) => $"referrers/{subject.Algorithm}/{subject.Hex}.json";

    public const string CatalogPrefix = "catalog/";

    private const string CatalogSuffix = ".name";

    /// <summary>The catalog entry of an image name; a name's slashes become folders (a name
    /// component cannot be "." or "..", and the suffix keeps "a" and "a/b" from clashing).</summary>
    public static string CatalogEntry(string imageName) => CatalogPrefix + imageName + CatalogSuffix;

    /// <summary>The image name of a catalog entry's path, or null if the path is not one.</summary>
    public static string? ImageNameOfCatalogEntry(string path) =>
        path.StartsWith(CatalogPrefix, StringComparison.Ordinal) && path.EndsWith(CatalogSuffix, StringComparison.Ordinal) && path.Length > CatalogPrefix.Length + CatalogSuffix.Length
            ? path[CatalogPrefix.Length..^CatalogSuffix.Length]
            : null;

    /// <summary>The attribute index of a package source at its revision; keyed, like image
    /// keys, by the source's kind and revision (ImageKeys.For).</summary>
    public static string PackageIndex(PackageSource source) =>
        $"indexes/{Digest.Sha256Hex($"source={source.Kind}:{source.Revision}")}.json";

    /// <summary>Popularity computed over a package set (or binary cache) by the worker host's popularity command.</summary>
    public const string ComputedPopularity = "popularity/computed.json";

    /// <summary>Popularity learned from built images: how many images contained each package name.</summary>
    public const string LearnedPopularity = "popularity/learned.json";
}
