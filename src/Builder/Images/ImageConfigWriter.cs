// The image's config and manifest documents (one config; a Docker schema-2 and an OCI
// manifest that both name it and the same layers). All are hashed, so they hold nothing that
// varies between machines or runs: no creation time, no host names, fixed property order.
// Layers are listed most popular first (the base of the stack changes least, so clients
// and the Docker daemon reuse more; Nixery does the same, see moby#38446), with the
// symlink layer last because it is the one that differs between images.
using System.Text.Json;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Storage;

namespace Nixery.Builder.Images;

public sealed record BuiltLayer(Digest Digest, Digest DiffId, long Size);

public static class ImageConfigWriter
{
    /// <summary>Where the package sets put the CA bundle (nixpkgs' cacert and Debian's ca-certificates agree).</summary>
    public const string CertificateBundle = "/etc/ssl/certs/ca-certificates.crt";

    public static readonly IReadOnlyList<string> Path = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

    public static byte[] Config(Architecture arch, IReadOnlyList<BuiltLayer> layers, bool hasShell)
    {
        var config = new ImageConfig(
            arch.ImageArch,
            "linux",
            new ContainerConfig([.. Path, $"SSL_CERT_FILE={CertificateBundle}", $"NIX_SSL_CERT_FILE={CertificateBundle}"], hasShell ? ["bash"] : null),
            new RootFs("layers", [.. layers.Select(l => l.DiffId.ToString())]));
        return JsonSerializer.SerializeToUtf8Bytes(config, CoreJson.Default.ImageConfig);
    }

    /// <summary>The Docker schema-2 manifest: the default, which every client understands.</summary>
    public static byte[] Manifest(Digest configDigest, long configSize, IReadOnlyList<BuiltLayer> layers) =>
        Manifest(MediaTypes.DockerManifest, MediaTypes.DockerConfig, MediaTypes.DockerLayerGzip, configDigest, configSize, layers);

    /// <summary>The OCI image manifest of the same config blob and layer blobs: only the media
    /// types differ (image-spec manifest.md; "mediaType" is set, as image-spec 1.0.2+ asks,
    /// so the blob alone tells what it is when fetched by digest).</summary>
    public static byte[] OciManifest(Digest configDigest, long configSize, IReadOnlyList<BuiltLayer> layers) =>
        Manifest(MediaTypes.OciManifest, MediaTypes.OciConfig, MediaTypes.OciLayerGzip, configDigest, configSize, layers);

    /// <summary>The OCI index of a multi-system image over each platform's OCI manifest, in the given order.</summary>
    public static byte[] Index(IReadOnlyList<(Architecture Arch, ManifestVariant OciManifest)> platforms)
    {
        var index = new ImageIndex(
            2,
            MediaTypes.OciIndex,
            [.. platforms.Select(p => new PlatformDescriptor(MediaTypes.OciManifest, p.OciManifest.Size, p.OciManifest.Digest, new Platform(p.Arch.ImageArch, "linux")))]);
        return JsonSerializer.SerializeToUtf8Bytes(index, CoreJson.Default.ImageIndex);
    }

    private static byte[] Manifest(string manifestType, string configType, string layerType, Digest configDigest, long configSize, IReadOnlyList<BuiltLayer> layers)
    {
        var manifest = new ImageManifest(
            2,
            manifestType,
            new Descriptor(configType, configSize, configDigest.ToString()),
            [.. layers.Select(l => new Descriptor(layerType, l.Size, l.Digest.ToString()))]);
        return JsonSerializer.SerializeToUtf8Bytes(manifest, CoreJson.Default.ImageManifest);
    }
}
