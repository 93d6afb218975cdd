// The builder writes two manifests per image, Docker schema 2 and OCI: they must describe
// the same config blob and the same layer blobs, in the same order, and differ only in
// media types — and each must be byte-for-byte the same on every run (they are hashed).
using System.Text;
using System.Text.Json;
using Nixery.Builder.Images;
using Nixery.Core.Manifests;

namespace Nixery.Builder.Tests.Images;

public sealed class ImageManifestsTests
{
    private static readonly IReadOnlyList<BuiltLayer> Layers =
    [
        new(Digest.Sha256("layer one"u8), Digest.Sha256("tar one"u8), 1234),
        new(Digest.Sha256("layer two"u8), Digest.Sha256("tar two"u8), 56),
        new(Digest.Sha256("symlinks"u8), Digest.Sha256("tar symlinks"u8), 7),
    ];

    private static readonly Digest ConfigDigest = Digest.Sha256("config"u8);

    [Fact]
    public void DockerAndOciManifestsNameTheSameConfigAndLayers()
    {
        using var docker = JsonDocument.Parse(ImageConfigWriter.Manifest(ConfigDigest, 321, Layers));
        using var oci = JsonDocument.Parse(ImageConfigWriter.OciManifest(ConfigDigest, 321, Layers));

        Assert.Equal(Describe(docker), Describe(oci));
        Assert.Equal(
            [$"{ConfigDigest} 321", .. Layers.Select(l => $"{l.Digest} {l.Size}")],
            Describe(oci));
    }

    [Fact]
    public void OciManifestIsTheDockerManifestWithOciMediaTypes()
    {
        // The serialiser's default encoder writes '+' as \u002B (valid JSON, and the same in
        // both documents); undone here only to keep the expected text readable.
        var docker = Encoding.UTF8.GetString(ImageConfigWriter.Manifest(ConfigDigest, 321, Layers)).Replace("\\u002B", "+", StringComparison.Ordinal);
        var oci = Encoding.UTF8.GetString(ImageConfigWriter.OciManifest(ConfigDigest, 321, Layers)).Replace("\\u002B", "+", StringComparison.Ordinal);

        var layers = string.Join(',', Layers.Select(l => $"{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"size\":{l.Size},\"digest\":\"{l.Digest}\"}}"));
        Assert.Equal(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            + $"\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":321,\"digest\":\"{ConfigDigest}\"}},"
            + $"\"layers\":[{layers}]}}",
            oci);
        Assert.Equal(
            docker,
            oci.Replace(MediaTypes.OciManifest, MediaTypes.DockerManifest, StringComparison.Ordinal)
                .Replace(MediaTypes.OciConfig, MediaTypes.DockerConfig, StringComparison.Ordinal)
                .Replace(MediaTypes.OciLayerGzip, MediaTypes.DockerLayerGzip, StringComparison.Ordinal));
    }

    [Fact]
    public void ManifestsAreDeterministic()
    {
        Assert.Equal(ImageConfigWriter.Manifest(ConfigDigest, 321, Layers), ImageConfigWriter.Manifest(ConfigDigest, 321, [.. Layers]));
        Assert.Equal(ImageConfigWriter.OciManifest(ConfigDigest, 321, Layers), ImageConfigWriter.OciManifest(ConfigDigest, 321, [.. Layers]));
        Assert.NotEqual(
            Digest.Sha256(ImageConfigWriter.Manifest(ConfigDigest, 321, Layers)),
            Digest.Sha256(ImageConfigWriter.OciManifest(ConfigDigest, 321, Layers)));
    }

    /// <summary>"digest size" of the config, then of each layer, in order.</summary>
    private static List<string> Describe(JsonDocument manifest)
    {
        var root = manifest.RootElement;
        Assert.Equal(2, root.GetProperty("schemaVersion").GetInt32());
        return
        [
            Line(root.GetProperty("config")),
            .. root.GetProperty("layers").EnumerateArray().Select(Line),
        ];

        static string Line(JsonElement d) => $"{d.GetProperty("digest").GetString()} {d.GetProperty("size").GetInt64()}";
    }
}
