// Issue 12: images that behave like a distribution's, and the pull API every client expects,
// checked with the real clients. Five images mixing languages and tools are pulled by skopeo,
// unpacked by umoci, searched for dangling links, and one program of each package named in
// them is run from a chroot (with /dev/null made, as a runtime would) — as the image's user,
// which is the non-root user in the images that name `nonroot`. skopeo inspect (which lists
// tags first) and skopeo list-tags; dotted attribute names; the SBOM found through the
// referrers API, validated against the CycloneDX schema and compared with the image's store
// paths.
using System.Net;
using System.Text.Json;
using Nixery.Core.Manifests;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests;

[Collection(PullCollection.Name)]
public sealed class DistributionImageTests(RegistryFixture fixture)
{
    private const string NonRootUser = "65532:65532";

    private RegistryInstance Registry => fixture.Registry;

    /// <summary>An image name and, for each package it names, a command that runs a program of it.</summary>
    public static TheoryData<string, string[]> Images => new()
    {
        { "shell/git", ["bash --version", "ls --version", "git --version", "whoami"] },
        { "jq/nonroot/python3", ["python3 -c print(6*7)", "jq --version"] },
        { "curl/gzip/perl", ["curl --version", "gzip --version", "perl -e print(6*7)"] },
        { "findutils/grep/python3.11/sed", ["find --version", "grep --version", "python3.11 --version", "sed --version"] },
        { "dash/less/nonroot/shell/tar", ["dash -c exit", "less --version", "tar --version", "bash --version", "whoami"] },
    };

    [Theory]
    [MemberData(nameof(Images))]
    public async Task PulledImageHasNoDanglingLinkAndRunsAProgramOfEachPackageAsItsUser(string image, string[] commands)
    {
        var oci = fixture.WorkDir("distro-" + image.Replace('/', '-'));
        (await Clients.SkopeoCopyAsync(Registry.HostPort, $"{image}:latest", oci)).EnsureSuccess($"skopeo copy {image}");
        var rootfs = await Clients.UnpackAsync(oci, fixture.WorkDir("distro-bundle-" + image.Replace('/', '-')));
        var config = Clients.OciConfig(oci);
        var nonRoot = image.Split('/').Contains("nonroot");

        Assert.Empty(RootFs.DanglingLinks(rootfs, "bin", "usr/bin", "sbin", "usr/sbin"));
        Assert.Equal(nonRoot ? NonRootUser : null, config.User);
        Assert.Contains(nonRoot ? "HOME=/home/nonroot" : "HOME=/root", config.Env);
        Assert.Equal("1970-01-01T00:00:01Z", config.Created);
        Assert.Equal(config.Layers, config.History.Count);
        foreach (var command in commands)
        {
            var argv = command.Split(' ');
            var run = await ChrootAsync(rootfs, config.User, argv);
            Assert.True(run.ExitCode == 0, $"{command} in {image} as {config.User ?? "root"} exited {run.ExitCode}: {run.Stdout}{run.Stderr}");
            if (argv[0] == "whoami")
            {
                Assert.Equal(nonRoot ? "nonroot" : "root", run.Stdout.Trim());
            }
        }

        // A usable root: /tmp for everyone, and the user's home is the user's.
        if (image.Split('/').Contains("shell"))
        {
            var write = await ChrootAsync(rootfs, config.User, ["/bin/bash", "-c", "touch /tmp/t \"$0/h\" && echo written", nonRoot ? "/home/nonroot" : "/root"]);
            Assert.Equal("written", write.Stdout.Trim());
        }
    }

    [Fact]
    public async Task SkopeoInspectWithTagsAndSkopeoListTagsSucceed()
    {
        var inspect = (await ProcessRunner.RunAsync("skopeo", ["inspect", "--tls-verify=false", $"docker://{Registry.HostPort}/shell/git:latest"])).EnsureSuccess("skopeo inspect");
        var list = (await ProcessRunner.RunAsync("skopeo", ["list-tags", "--tls-verify=false", $"docker://{Registry.HostPort}/shell/git"])).EnsureSuccess("skopeo list-tags");

        using var inspected = JsonDocument.Parse(inspect.Stdout);
        Assert.Equal(["latest"], inspected.RootElement.GetProperty("RepoTags").EnumerateArray().Select(t => t.GetString()));
        Assert.StartsWith("1970-01-01T00:00:01", inspected.RootElement.GetProperty("Created").GetString(), StringComparison.Ordinal);
        using var listed = JsonDocument.Parse(list.Stdout);
        Assert.Equal(["latest"], listed.RootElement.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task DottedAttributeNamesPullAndUnknownOnesAreNamed()
    {
        var oci = fixture.WorkDir("dotted");
        (await Clients.SkopeoCopyAsync(Registry.HostPort, "libbz2-1.0:latest", oci)).EnsureSuccess("skopeo copy libbz2-1.0");

        var missing = await Clients.SkopeoCopyAsync(Registry.HostPort, "python3.99/debian.nosuchpkg:latest", fixture.WorkDir("dotted-missing"));
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("packages not found: debian.nosuchpkg, python3.99", missing.Stderr, StringComparison.Ordinal);

        using var response = await Registry.Client.GetAsync("v2/no.such.thing/manifests/latest");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("packages not found: no.such.thing", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSbomIsFoundThroughTheReferrersApiValidatesAndListsExactlyTheImagesStorePaths()
    {
        const string Image = "curl/gzip/perl";
        var oci = fixture.WorkDir("sbom-image");
        (await Clients.SkopeoCopyAsync(Registry.HostPort, $"{Image}:latest", oci)).EnsureSuccess("skopeo copy");
        var inspect = (await ProcessRunner.RunAsync("skopeo", ["inspect", "--tls-verify=false", $"docker://{Registry.HostPort}/{Image}:latest"])).EnsureSuccess("skopeo inspect");
        using var inspected = JsonDocument.Parse(inspect.Stdout);
        var digest = inspected.RootElement.GetProperty("Digest").GetString()!;

        using var referrers = await Registry.Client.GetAsync($"v2/{Image}/referrers/{digest}?artifactType={Uri.EscapeDataString(MediaTypes.CycloneDxJson)}");
        Assert.Equal(HttpStatusCode.OK, referrers.StatusCode);
        Assert.Equal(["artifactType"], referrers.Headers.GetValues("OCI-Filters-Applied"));
        using var index = JsonDocument.Parse(await referrers.Content.ReadAsStringAsync());
        var descriptor = Assert.Single(index.RootElement.GetProperty("manifests").EnumerateArray());
        Assert.Equal(MediaTypes.CycloneDxJson, descriptor.GetProperty("artifactType").GetString());

        var raw = (await ProcessRunner.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", $"docker://{Registry.HostPort}/{Image}@{descriptor.GetProperty("digest").GetString()}"])).EnsureSuccess("skopeo inspect --raw of the SBOM artifact");
        using var artifact = JsonDocument.Parse(raw.Stdout);
        Assert.Equal(digest, artifact.RootElement.GetProperty("subject").GetProperty("digest").GetString());
        var sbomDigest = artifact.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString();
        using var blob = await Registry.Client.GetAsync($"v2/{Image}/blobs/{sbomDigest}");
        var sbom = await blob.Content.ReadAsStringAsync();

        Assert.Empty(CycloneDxSchema.Errors(sbom));
        using var document = JsonDocument.Parse(sbom);
        var listed = document.RootElement.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("bom-ref").GetString()!).Order(StringComparer.Ordinal).ToList();
        var held = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var layer in Clients.OciLayerDigests(oci))
        {
            held.UnionWith((await Clients.StorePathsInLayerAsync(oci, layer)).Select(p => "/" + p));
        }

        Assert.Equal(held, listed);
        Assert.Contains(document.RootElement.GetProperty("components").EnumerateArray(), c =>
            c.GetProperty("name").GetString() == "curl" && c.GetProperty("type").GetString() == "application" && c.TryGetProperty("licenses", out _));
    }

    /// <summary>chroot into the image, as <paramref name="user"/> (uid:gid) when the image names one.</summary>
    private static Task<ProcessResult> ChrootAsync(string rootfs, string? user, IReadOnlyList<string> argv) =>
        ProcessRunner.RunAsync("chroot", [.. user is null ? Array.Empty<string>() : [$"--userspec={user}"], rootfs, .. argv]);
}
