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
//   pulls/<image-key>.json    when the image was last pulled by tag, and its name (PullRecorder: at
//                             most one write per image an hour); read by the GarbageCollector
//   pulls/sha256/<hex>.json   when a manifest was last pulled by digest (the same record)
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

    public const string ImagePrefix = "images/";

    public static string Image(string imageKey) => $"{ImagePrefix}{imageKey}.json";

    /// <summary>The image key of an image entry's path, or null if the path is not one.</summary>
    public static string? ImageKeyOfImage(string path) => KeyBetween(path, ImagePrefix, ".json");

    public const string BlobPrefix = "blobs/";

    /// <summary>The digest of a blob's path, or null if the path is not one.</summary>
    public static Digest? DigestOfBlob(string path) =>
        path.StartsWith(BlobPrefix, StringComparison.Ordinal) && path[BlobPrefix.Length..].Split('/') is [var algorithm, var hex]
            && Digest.TryParse($"{algorithm}:{hex}", out var digest)
            ? digest
            : null;

    public const string PullPrefix = "pulls/";

    /// <summary>When the image was last pulled by tag (PullRecorder).</summary>
    public static string Pull(string imageKey) => $"{PullPrefix}{imageKey}.json";

    /// <summary>When the manifest was last pulled by digest (PullRecorder): a client that pins
    /// a digest (Kubernetes, image@sha256:…) never asks for the tag again.</summary>
    public static string ManifestPull(Digest manifest) => $"{PullPrefix}{manifest.Algorithm}/{manifest.Hex}.json";

    /// <summary>The image key of a pull record's path, or null if it is not one (a manifest's pull record).</summary>
    public static string? ImageKeyOfPull(string path) =>
        KeyBetween(path, PullPrefix, ".json") is { } key && !key.Contains('/', StringComparison.Ordinal) ? key : null;

    /// <summary>The manifest digest of a by-digest pull record's path, or null if it is not one.</summary>
    public static Digest? DigestOfManifestPull(string path) =>
        KeyBetween(path, PullPrefix, ".json") is { } key && key.Split('/') is [var algorithm, var hex] && Digest.TryParse($"{algorithm}:{hex}", out var digest)
            ? digest
            : null;

    public const string ReferrersPrefix = "referrers/";

    /// <summary>The subject digest of a referrers index's path, or null if the path is not one.</summary>
    public static Digest? SubjectOfReferrers(string path) =>
        KeyBetween(path, ReferrersPrefix, ".json") is { } key && key.Split('/') is [var algorithm, var hex] && Digest.TryParse($"{algorithm}:{hex}", out var digest)
            ? digest
            : null;

    /// <summary>The layer key of a layer record's path (not a lease's), or null.</summary>
    public static string? LayerKeyOfRecord(string path) => KeyBetween(path, LayerPrefix, ".json");

    private static string? KeyBetween(string path, string prefix, string suffix) =>
        path.StartsWith(prefix, StringComparison.Ordinal) && path.EndsWith(suffix, StringComparison.Ordinal) && path.Length > prefix.Length + suffix.Length
            ? path[prefix.Length..^suffix.Length]
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
