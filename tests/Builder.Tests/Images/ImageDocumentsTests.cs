// What the image's config, OCI annotations, SBOM and SBOM artifact say, spelled out whole:
// they are hashed, so every byte is part of the image's identity.
using System.Text;
using System.Text.Json;
using Nixery.Builder.Images;
using Nixery.Builder.Nix;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Sources;
using Nixery.TestSupport;

namespace Nixery.Builder.Tests.Images;

public sealed class ImageDocumentsTests
{
    private const string Bash = "/nix/store/ndh4977963ndkbj8jc287ja049mq1i6x-bash-5.2.15-2+b8";
    private const string Libc = "/nix/store/0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-libc6+libgcc-s1";

    private static readonly IReadOnlyList<BuiltLayer> Layers =
    [
        new(Digest.Sha256("layer one"u8), Digest.Sha256("tar one"u8), 1234),
        new(Digest.Sha256("symlinks"u8), Digest.Sha256("tar symlinks"u8), 7),
    ];

    private static string Text(byte[] json) => Encoding.UTF8.GetString(json).Replace("\\u002B", "+", StringComparison.Ordinal);

    [Fact]
    public void ConfigOfANonRootImageHasTheFixedTimeItsUserHomeAndAHistoryEntryPerLayer()
    {
        List<HistoryEntry> history = [ImageConfigWriter.StorePathsHistory([Libc, Bash]), ImageConfigWriter.SymlinkHistory(ImageRoot.NonRoot, [Bash])];

        var config = Text(ImageConfigWriter.Config(Architecture.Amd64, Layers, hasShell: true, ImageRoot.NonRoot, history));

        Assert.Equal(
            "{\"created\":\"1970-01-01T00:00:01Z\",\"architecture\":\"amd64\",\"os\":\"linux\","
            + "\"config\":{\"User\":\"65532:65532\",\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"HOME=/home/nonroot\","
            + "\"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\",\"NIX_SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\"],\"Cmd\":[\"bash\"]},"
            + $"\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{Layers[0].DiffId}\",\"{Layers[1].DiffId}\"]}},"
            + "\"history\":[{\"created\":\"1970-01-01T00:00:01Z\",\"created_by\":\"nixery: store paths bash-5.2.15-2+b8, libc6+libgcc-s1\",\"comment\":\"2 store paths\"},"
            + "{\"created\":\"1970-01-01T00:00:01Z\",\"created_by\":\"nixery: symlinks into bash-5.2.15-2+b8; /etc/passwd, /etc/group, /tmp\",\"comment\":\"user nonroot (65532:65532)\"}]}",
            config);
    }

    [Fact]
    public void ConfigOfARootImageHasNoUserAndRootsHome()
    {
        using var config = JsonDocument.Parse(ImageConfigWriter.Config(
            Architecture.Amd64, Layers, hasShell: false, ImageRoot.Root,
            [ImageConfigWriter.StorePathsHistory([Bash]), ImageConfigWriter.SymlinkHistory(ImageRoot.Root, [Bash])]));

        var container = config.RootElement.GetProperty("config");
        Assert.False(container.TryGetProperty("User", out _));
        Assert.Contains("HOME=/root", container.GetProperty("Env").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("user root", config.RootElement.GetProperty("history")[1].GetProperty("comment").GetString());
    }

    [Fact]
    public void HistoryOfALargeLayerNamesSixPathsAndCountsTheRest()
    {
        var paths = Enumerable.Range(0, 9).Select(i => $"/nix/store/{i}a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-p{i}").ToList();

        var entry = ImageConfigWriter.StorePathsHistory(paths);

        Assert.Equal(new HistoryEntry("1970-01-01T00:00:01Z", "nixery: store paths p0, p1, p2, p3, p4, p5 and 3 more", "9 store paths"), entry);
    }

    [Fact]
    public void OciManifestCarriesTheSourceRevisionAndPackageAnnotations()
    {
        var git = new PackageSource(SourceKinds.Git, "https://example.org/pkgs.git", "0123456789abcdef0123456789abcdef01234567");
        var folder = new PackageSource(SourceKinds.Path, "/srv/pkgset", "rev-1");

        using var fromGit = JsonDocument.Parse(ImageConfigWriter.OciManifest(Digest.Sha256("c"u8), 3, Layers, ImageConfigWriter.Annotations(git, ["bash", "git"], "x86_64-linux")));
        using var fromFolder = JsonDocument.Parse(ImageConfigWriter.OciManifest(Digest.Sha256("c"u8), 3, Layers, ImageConfigWriter.Annotations(folder, ["bash"], "x86_64-linux")));

        Assert.Equal(
            "{\"dev.nixery.packages\":\"bash,git\",\"dev.nixery.system\":\"x86_64-linux\","
            + "\"org.opencontainers.image.revision\":\"0123456789abcdef0123456789abcdef01234567\",\"org.opencontainers.image.source\":\"https://example.org/pkgs.git\"}",
            fromGit.RootElement.GetProperty("annotations").GetRawText());
        Assert.Equal(
            "{\"dev.nixery.packages\":\"bash\",\"dev.nixery.system\":\"x86_64-linux\",\"org.opencontainers.image.revision\":\"rev-1\"}",
            fromFolder.RootElement.GetProperty("annotations").GetRawText());
        Assert.False(JsonDocument.Parse(ImageConfigWriter.Manifest(Digest.Sha256("c"u8), 3, Layers)).RootElement.TryGetProperty("annotations", out _));
    }

    [Fact]
    public void SbomArtifactIsAnOciManifestWithTheEmptyConfigTheSbomAndItsSubject()
    {
        var sbom = new Descriptor(MediaTypes.CycloneDxJson, 99, Digest.Sha256("sbom"u8).ToString());
        var subject = new Descriptor(MediaTypes.DockerManifest, 500, Digest.Sha256("manifest"u8).ToString());

        var artifact = Text(ImageConfigWriter.SbomArtifact(sbom, subject));

        Assert.Equal(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"artifactType\":\"application/vnd.cyclonedx+json\","
            + "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"size\":2,\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\"},"
            + $"\"layers\":[{{\"mediaType\":\"application/vnd.cyclonedx+json\",\"size\":99,\"digest\":\"{sbom.Digest}\"}}],"
            + $"\"subject\":{{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"size\":500,\"digest\":\"{subject.Digest}\"}}}}",
            artifact);
    }

    [Fact]
    public void SbomListsEveryStorePathWithItsHashesAndLicencesAndValidatesAgainstCycloneDx15()
    {
        var graph = new RuntimeGraph(
        [
            new StorePathInfo(Libc, [Libc], 10, 10, "sha256-UoChWzR+othWOdboixdtqwsRxdZlUcgMYLI295bMto4="),
            new StorePathInfo(Bash, [Libc, Bash], 20, 30, "sha256:13mnrjbgfdmjc06chlb5sv2i22xbdlbqps6n75bdi8ky6ids302j"),
        ]);
        var licenses = new Dictionary<string, IReadOnlyList<PackageLicense>>
        {
            [Bash] = [new PackageLicense("GPL-3.0-or-later", "GPL-3+")],
            [Libc] = [new PackageLicense(null, "LGPL-2.1+ and other")],
        };

        var json = Encoding.UTF8.GetString(Sbom.Write("bash", "x86_64-linux", graph, [Bash], licenses));

        Assert.Empty(CycloneDxSchema.Errors(json));
        Assert.Equal(
            "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"version\":1,"
            + "\"metadata\":{\"tools\":{\"components\":[{\"type\":\"application\",\"name\":\"nixery-on-azure\"}]},"
            + "\"component\":{\"type\":\"container\",\"bom-ref\":\"image\",\"name\":\"bash\",\"properties\":[{\"name\":\"nix:system\",\"value\":\"x86_64-linux\"}]}},"
            + "\"components\":["
            + $"{{\"type\":\"library\",\"bom-ref\":\"{Libc}\",\"name\":\"libc6+libgcc-s1\","
            + "\"hashes\":[{\"alg\":\"SHA-256\",\"content\":\"5280a15b347ea2d85639d6e88b176dab0b11c5d66551c80c60b236f796ccb68e\"}],"
            + "\"licenses\":[{\"license\":{\"name\":\"LGPL-2.1+ and other\"}}],"
            + $"\"properties\":[{{\"name\":\"nix:store_path\",\"value\":\"{Libc}\"}},{{\"name\":\"nix:hash\",\"value\":\"0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p\"}},{{\"name\":\"nix:nar_hash\",\"value\":\"sha256-UoChWzR+othWOdboixdtqwsRxdZlUcgMYLI295bMto4=\"}}]}},"
            + $"{{\"type\":\"application\",\"bom-ref\":\"{Bash}\",\"name\":\"bash\",\"version\":\"5.2.15-2+b8\","
            + "\"hashes\":[{\"alg\":\"SHA-256\",\"content\":\"5280a15b347ea2d85639d6e88b176dab0b11c5d66551c80c60b236f796ccb68e\"}],"
            + "\"licenses\":[{\"license\":{\"id\":\"GPL-3.0-or-later\"}}],"
            + $"\"properties\":[{{\"name\":\"nix:store_path\",\"value\":\"{Bash}\"}},{{\"name\":\"nix:hash\",\"value\":\"ndh4977963ndkbj8jc287ja049mq1i6x\"}},{{\"name\":\"nix:nar_hash\",\"value\":\"sha256:13mnrjbgfdmjc06chlb5sv2i22xbdlbqps6n75bdi8ky6ids302j\"}}]}}],"
            + $"\"dependencies\":[{{\"ref\":\"image\",\"dependsOn\":[\"{Bash}\"]}},{{\"ref\":\"{Libc}\",\"dependsOn\":[]}},{{\"ref\":\"{Bash}\",\"dependsOn\":[\"{Libc}\"]}}]}}",
            json.Replace("\\u002B", "+", StringComparison.Ordinal));
    }

    [Fact]
    public void TheSchemaRefusesALicenceIdThatIsNoSpdxId()
    {
        var graph = new RuntimeGraph([new StorePathInfo(Bash, [], 20, 20)]);

        var json = Encoding.UTF8.GetString(Sbom.Write("bash", "x86_64-linux", graph, [Bash], new Dictionary<string, IReadOnlyList<PackageLicense>> { [Bash] = [new PackageLicense("GPL-3+", null)] }));

        Assert.Contains(CycloneDxSchema.Errors(json), e => e.StartsWith("/components/0/licenses/0/license/id: enum", StringComparison.Ordinal));
    }
}
