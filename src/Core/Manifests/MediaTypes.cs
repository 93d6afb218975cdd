// The media types this registry stores and serves. Exact strings matter: clients compare
// Content-Type byte for byte against what they asked for.
// Docker: https://github.com/distribution/distribution/blob/main/docs/content/spec/manifest-v2-2.md
// OCI: https://github.com/opencontainers/image-spec/blob/main/media-types.md
namespace Nixery.Core.Manifests;

public static class MediaTypes
{
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";

    /// <summary>The config of an artifact that needs none: the two bytes "{}" (image-spec 1.1
    /// manifest.md, "Guidance for an Empty Descriptor").</summary>
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";

    /// <summary>A CycloneDX JSON document (IANA registration; also the SBOM artifact's artifactType).</summary>
    public const string CycloneDxJson = "application/vnd.cyclonedx+json";

    public const string OctetStream = "application/octet-stream";
}
