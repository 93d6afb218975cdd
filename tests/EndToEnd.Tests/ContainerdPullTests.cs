// containerd (what Kubernetes pulls with) against the registry: it resolves the tag with
// HEAD, negotiates the manifest with its Accept header and pulls over plain HTTP. And the
// OCI variant of the same image, fetched by its digest, is a complete image to skopeo:
// same layers as the Docker one. Each test runs its own containerd, all under a temp folder.
using System.Net;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests;

[Collection(PullCollection.Name)]
public sealed class ContainerdPullTests(RegistryFixture fixture)
{
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";

    private RegistryInstance Registry => fixture.Registry;

    [Fact]
    public async Task CtrPullsShellGitOverPlainHttpAndListsIt()
    {
        // skopeo waits out a cold build (429 + Retry-After) by itself; ctr then finds it built.
        (await Clients.SkopeoCopyAsync(Registry.HostPort, "shell/git:latest", fixture.WorkDir("ctr-prebuild"))).EnsureSuccess("skopeo copy");
        await using var containerd = await ContainerdDaemon.StartAsync(fixture.WorkDir("containerd-tag"));
        var reference = $"{Registry.HostPort}/shell/git:latest";

        // The native snapshotter: overlayfs is not always available inside a container.
        var pull = await Clients.CtrAsync(containerd.Address, "images", "pull", "--plain-http", "--snapshotter", "native", reference);
        pull.EnsureSuccess("ctr images pull");
        var list = (await Clients.CtrAsync(containerd.Address, "images", "ls", "-q")).EnsureSuccess("ctr images ls");

        Assert.Contains(reference, list.Stdout.Split('\n', StringSplitOptions.TrimEntries));
        Assert.Equal(0, await containerd.StopAsync());
    }

    [Fact]
    public async Task OciVariantIsTheSameImageToSkopeoAndContainerd()
    {
        var docker = fixture.WorkDir("oci-variant-docker");
        (await Clients.SkopeoCopyAsync(Registry.HostPort, "shell/git:latest", docker)).EnsureSuccess("skopeo copy by tag");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/shell/git/manifests/latest");
        request.Headers.TryAddWithoutValidation("Accept", OciManifest);
        using var response = await Registry.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(OciManifest, response.Content.Headers.ContentType?.ToString());
        var ociDigest = response.Headers.GetValues("Docker-Content-Digest").Single();

        var oci = fixture.WorkDir("oci-variant-oci");
        (await Clients.SkopeoCopyByDigestAsync(Registry.HostPort, "shell/git", ociDigest, oci)).EnsureSuccess("skopeo copy by digest");
        await using var containerd = await ContainerdDaemon.StartAsync(fixture.WorkDir("containerd-digest"));
        var pull = await Clients.CtrAsync(containerd.Address, "images", "pull", "--plain-http", "--snapshotter", "native", $"{Registry.HostPort}/shell/git@{ociDigest}");

        // An OCI source into an OCI layout is copied as it is: the registry's bytes, same layers.
        Assert.Equal(ociDigest, Clients.OciManifestDigest(oci));
        Assert.Equal(Clients.OciLayerDigests(docker), Clients.OciLayerDigests(oci));
        pull.EnsureSuccess("ctr images pull by OCI digest");
        Assert.Equal(0, await containerd.StopAsync());
    }
}

/// <summary>
/// A containerd of the test's own: config, root, state and sockets in one folder, so it
/// touches nothing of the machine's and several can run at once. Ready when it logs
/// "containerd successfully booted" (a condition, not a sleep); stopped with SIGTERM.
/// The plugins it cannot or need not run here (CRI, /opt installer, btrfs, zfs, aufs,
/// devmapper) are disabled so they neither fail nor write outside the folder.
/// </summary>
public sealed class ContainerdDaemon : IAsyncDisposable
{
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(60);

    private readonly ServiceProcess _process;

    private ContainerdDaemon(ServiceProcess process, string address)
    {
        _process = process;
        Address = address;
    }

    /// <summary>The grpc socket, for ctr --address.</summary>
    public string Address { get; }

    public static async Task<ContainerdDaemon> StartAsync(string folder)
    {
        var address = Path.Combine(folder, "containerd.sock");
        var config = Path.Combine(folder, "config.toml");
        await File.WriteAllTextAsync(config, $"""
            version = 2
            root = "{Path.Combine(folder, "root")}"
            state = "{Path.Combine(folder, "state")}"
            disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]

            [grpc]
              address = "{address}"

            [ttrpc]
              address = "{address}.ttrpc"

            [debug]
              address = "{Path.Combine(folder, "debug.sock")}"
            """);
        var process = ServiceProcess.Start("containerd", "containerd", ["--config", config]);
        try
        {
            await process.WaitForLineAsync("containerd successfully booted", BootTimeout);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return new ContainerdDaemon(process, address);
    }

    /// <summary>SIGTERM and wait for a clean exit; returns the exit code.</summary>
    public Task<int> StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(30));

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
