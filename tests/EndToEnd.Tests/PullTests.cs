// The first whole capability (issue 2): real clients pull Nix-built images from a registry
// on the embedded default, and what they pulled runs. Real Nix, real skopeo, podman,
// umoci, tar and chroot; nothing is faked.
using System.Net;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests;

[Collection(PullCollection.Name)]
public sealed class PullTests(RegistryFixture fixture)
{
    private RegistryInstance Registry => fixture.Registry;

    [Fact]
    public async Task SkopeoCopiesShellGitAndGitRunsInTheUnpackedImage()
    {
        var oci = fixture.WorkDir("skopeo-shell-git");
        (await Clients.SkopeoCopyAsync(Registry.HostPort, "shell/git:latest", oci)).EnsureSuccess("skopeo copy");

        var rootfs = await Clients.UnpackAsync(oci, fixture.WorkDir("bundle-shell-git"));
        var run = await ProcessRunner.RunAsync("chroot", [rootfs, "/bin/bash", "-c", "git --version && /bin/sh -c 'echo sh works'"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"^git version \d+\.\d+", run.Stdout);
        Assert.Contains("sh works", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PodmanPullsShellGit()
    {
        var result = await Clients.PodmanPullAsync(Registry.HostPort, "shell/git:latest", fixture.WorkDir("podman"));

        result.EnsureSuccess("podman pull");
        Assert.Matches("(?m)^[0-9a-f]{64}$", result.Stdout);
    }

    [Fact]
    public async Task ImagesSharingPackagesShareTheLayersOfTheirCommonStorePaths()
    {
        var curlDir = fixture.WorkDir("bash-curl");
        var gitDir = fixture.WorkDir("bash-git");
        (await Clients.SkopeoCopyAsync(Registry.HostPort, "bash/curl:latest", curlDir)).EnsureSuccess("skopeo copy bash/curl");
        (await Clients.SkopeoCopyAsync(Registry.HostPort, "bash/git:latest", gitDir)).EnsureSuccess("skopeo copy bash/git");

        var curlLayers = await LayerOfEachStorePathAsync(curlDir);
        var gitLayers = await LayerOfEachStorePathAsync(gitDir);
        var common = curlLayers.Keys.Intersect(gitLayers.Keys).Order(StringComparer.Ordinal).ToList();

        // bash, libc and the always-included certificates are in both closures.
        Assert.Contains(common, p => p.Contains("-bash-", StringComparison.Ordinal));
        Assert.Contains(common, p => p.Contains("libc6", StringComparison.Ordinal));
        Assert.Contains(common, p => p.Contains("-cacert-", StringComparison.Ordinal));
        var bash = common.First(p => p.Contains("-bash-", StringComparison.Ordinal));
        var libc = common.First(p => p.Contains("libc6", StringComparison.Ordinal));
        Assert.Equal(curlLayers[bash], gitLayers[bash]);
        Assert.Equal(curlLayers[libc], gitLayers[libc]);
        Assert.NotEmpty(Clients.OciLayerDigests(curlDir).Intersect(Clients.OciLayerDigests(gitDir)));
    }

    [Fact]
    public async Task ASecondPullOfAnImageBuildsNothing()
    {
        var first = fixture.WorkDir("second-pull-1");
        (await Clients.SkopeoCopyAsync(Registry.HostPort, "bash/coreutils:latest", first)).EnsureSuccess("first skopeo copy");
        var nixCalls = fixture.Nix.Calls;
        var blobs = Directory.GetFiles(Path.Combine(Registry.StoragePath, "blobs", "sha256")).Order(StringComparer.Ordinal).ToList();

        var second = fixture.WorkDir("second-pull-2");
        (await Clients.SkopeoCopyAsync(Registry.HostPort, "coreutils/bash:latest", second)).EnsureSuccess("second skopeo copy");

        Assert.Equal(nixCalls, fixture.Nix.Calls);
        Assert.Equal(blobs, Directory.GetFiles(Path.Combine(Registry.StoragePath, "blobs", "sha256")).Order(StringComparer.Ordinal));
        Assert.Equal(Clients.OciLayerDigests(first), Clients.OciLayerDigests(second));
    }

    [Fact]
    public async Task UnknownPackagesAreAllNamedInManifestUnknown()
    {
        var oci = fixture.WorkDir("unknown");
        var result = await Clients.SkopeoCopyAsync(Registry.HostPort, "bash/nosuchpkg/alsomissing:latest", oci);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("manifest unknown", result.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("packages not found: alsomissing, nosuchpkg", result.Stderr, StringComparison.Ordinal);

        using var response = await Registry.Client.GetAsync("v2/nosuchpkg/alsomissing/bash/manifests/latest");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"code\":\"MANIFEST_UNKNOWN\"", body, StringComparison.Ordinal);
        Assert.Contains("\"missing\":[\"alsomissing\",\"nosuchpkg\"]", body, StringComparison.Ordinal);
    }

    /// <summary>Store path → digest of the layer that holds it.</summary>
    private static async Task<IReadOnlyDictionary<string, string>> LayerOfEachStorePathAsync(string ociDir)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var digest in Clients.OciLayerDigests(ociDir))
        {
            foreach (var path in await Clients.StorePathsInLayerAsync(ociDir, digest))
            {
                map[path] = digest;
            }
        }

        return map;
    }
}
