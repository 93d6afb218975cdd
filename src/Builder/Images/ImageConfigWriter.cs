// The image's config and manifest documents (one config; a Docker schema-2 and an OCI
// manifest that both name it and the same layers), and the SBOM artifact's manifest. All are
// hashed, so they hold nothing that varies between machines or runs: no build time, no host
// names, fixed property order.
// Layers are listed most popular first (the base of the stack changes least, so clients
// and the Docker daemon reuse more; Nixery does the same, see moby#38446), with the
// symlink layer last because it is the one that differs between images.
//
// "created" is always Created, 1970-01-01T00:00:01Z: the mtime of every file in the Nix store
// and in our layers, and what nixpkgs' dockerTools writes by default. A real time would give
// every build a new digest. The history has one entry per layer, saying what it holds (the
// store paths' names, shortened), so `docker history` / `podman history` show the packages.
// The OCI manifest carries annotations (the Docker schema has none): the package source and
// its revision (org.opencontainers.image.source, .revision; a folder source's local path is
// left out, since it differs between machines), and our own keys for the package list and
// the Nix system.
using System.Text.Json;
using Nixery.Builder.Nix;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Sources;
using Nixery.Core.Storage;

namespace Nixery.Builder.Images;

public sealed record BuiltLayer(Digest Digest, Digest DiffId, long Size);

public static class ImageConfigWriter
{
    /// <summary>Where the package sets put the CA bundle (nixpkgs' cacert and Debian's ca-certificates agree).</summary>
    public const string CertificateBundle = "/etc/ssl/certs/ca-certificates.crt";

    public static readonly IReadOnlyList<string> Path = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

    /// <summary>The config's "created" and every history entry's: the Nix store's mtime.</summary>
    public const string Created = "1970-01-01T00:00:01Z";

    /// <summary>Our annotation keys (reverse-DNS of Nixery's domain, whose naming scheme this registry serves).</summary>
    public const string PackagesAnnotation = "dev.nixery.packages";

    public const string SystemAnnotation = "dev.nixery.system";

    /// <summary>Store path names a history entry names before it says how many more.</summary>
    private const int NamesInHistory = 6;

    /// <param name="history">One entry per layer, in layer order.</param>
    public static byte[] Config(Architecture arch, IReadOnlyList<BuiltLayer> layers, bool hasShell, ImageRoot root, IReadOnlyList<HistoryEntry> history)
    {
        if (history.Count != layers.Count)
        {
            throw new ArgumentException($"{history.Count} history entries for {layers.Count} layers", nameof(history));
        }

        var config = new ImageConfig(
            Created,
            arch.ImageArch,
            "linux",
            new ContainerConfig(
                root.User,
                [.. Path, $"HOME={root.Home}", $"SSL_CERT_FILE={CertificateBundle}", $"NIX_SSL_CERT_FILE={CertificateBundle}"],
                hasShell ? ["bash"] : null),
            new RootFs("layers", [.. layers.Select(l => l.DiffId.ToString())]),
            history);
        return JsonSerializer.SerializeToUtf8Bytes(config, CoreJson.Default.ImageConfig);
    }

    /// <summary>The history entry of a layer of store paths: their names, the first few of them.</summary>
    public static HistoryEntry StorePathsHistory(IReadOnlyList<string> storePaths)
    {
        var names = storePaths.Select(StorePaths.Name).Order(StringComparer.Ordinal).ToList();
        var shown = string.Join(", ", names.Take(NamesInHistory));
        var more = names.Count > NamesInHistory ? $" and {names.Count - NamesInHistory} more" : "";
        return new HistoryEntry(Created, $"nixery: store paths {shown}{more}", $"{names.Count} store path{(names.Count == 1 ? "" : "s")}");
    }

    /// <summary>The history entry of the symlink layer.</summary>
    public static HistoryEntry SymlinkHistory(ImageRoot root, IReadOnlyList<string> topLevel)
    {
        var names = string.Join(", ", topLevel.Select(StorePaths.Name).Take(NamesInHistory));
        var more = topLevel.Count > NamesInHistory ? $" and {topLevel.Count - NamesInHistory} more" : "";
        return new HistoryEntry(Created, $"nixery: symlinks into {names}{more}; /etc/passwd, /etc/group, /tmp", root.User is null ? "user root" : $"user {ImageRoot.NonRootName} ({root.User})");
    }

    /// <summary>The OCI manifest's annotations, sorted by key.</summary>
    public static IReadOnlyDictionary<string, string> Annotations(PackageSource source, IReadOnlyList<string> packages, string system)
    {
        var annotations = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["org.opencontainers.image.revision"] = source.Revision,
            [PackagesAnnotation] = string.Join(',', packages),
            [SystemAnnotation] = system,
        };
        if (source.Kind != SourceKinds.Path)
        {
            annotations["org.opencontainers.image.source"] = source.Location;
        }

        return annotations;
    }

    /// <summary>The SBOM artifact's manifest: artifactType CycloneDX, the empty config, the
    /// document as its one layer, and <paramref name="subject"/> (a manifest of the image).</summary>
    public static byte[] SbomArtifact(Descriptor sbom, Descriptor subject)
    {
        var manifest = new ImageManifest(2, MediaTypes.OciManifest, EmptyConfig, [sbom], MediaTypes.CycloneDxJson, subject);
        return JsonSerializer.SerializeToUtf8Bytes(manifest, CoreJson.Default.ImageManifest);
    }

    /// <summary>The two bytes "{}", stored as a blob for every artifact's config.</summary>
    public static readonly byte[] EmptyJson = "{}"u8.ToArray();

    private static Descriptor EmptyConfig { get; } = new(MediaTypes.OciEmpty, EmptyJson.Length, Digest.Sha256(EmptyJson).ToString());

    /// <summary>The Docker schema-2 manifest: the default, which every client understands.</summary>
    public static byte[] Manifest(Digest configDigest, long configSize, IReadOnlyList<BuiltLayer> layers) =>
        Manifest(MediaTypes.DockerManifest, MediaTypes.DockerConfig, MediaTypes.DockerLayerGzip, configDigest, configSize, layers);

    /// <summary>The OCI image manifest of the same config blob and layer blobs: only the media
    /// types differ (image-spec manifest.md; "mediaType" is set, as image-spec 1.0.2+ asks,
    /// so the blob alone tells what it is when fetched by digest).</summary>
    public static byte[] OciManifest(Digest configDigest, long configSize, IReadOnlyList<BuiltLayer> layers, IReadOnlyDictionary<string, string>? annotations = null) =>
        Manifest(MediaTypes.OciManifest, MediaTypes.OciConfig, MediaTypes.OciLayerGzip, configDigest, configSize, layers, annotations);

    /// <summary>The OCI index of a multi-system image over each platform's OCI manifest, in the given order.</summary>
    public static byte[] Index(IReadOnlyList<(Architecture Arch, ManifestVariant OciManifest)> platforms)
    {
        var index = new ImageIndex(
            2,
            MediaTypes.OciIndex,
            [.. platforms.Select(p => new PlatformDescriptor(MediaTypes.OciManifest, p.OciManifest.Size, p.OciManifest.Digest, new Platform(p.Arch.ImageArch, "linux")))]);
        return JsonSerializer.SerializeToUtf8Bytes(index, CoreJson.Default.ImageIndex);
    }

    private static byte[] Manifest(string manifestType, string configType, string layerType, Digest configDigest, long configSize, IReadOnlyList<BuiltLayer> layers, IReadOnlyDictionary<string, string>? annotations = null)
    {
        var manifest = new ImageManifest(
            2,
            manifestType,
            new Descriptor(configType, configSize, configDigest.ToString()),
            [.. layers.Select(l => new Descriptor(layerType, l.Size, l.Digest.ToString()))],
            Annotations: annotations);
        return JsonSerializer.SerializeToUtf8Bytes(manifest, CoreJson.Default.ImageManifest);
    }
}
