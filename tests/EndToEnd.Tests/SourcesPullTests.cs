// Issue 4, "Done when" 1: one registry serving three kinds of package source at once — a
// local git repository (the default: the tag picks the commit), a file:// tarball as a
// channel and a local folder (named sources, chosen by the name's first component or by
// tag) — pulled with skopeo; and a set that declares two systems, which gives an OCI index
// of the one this machine builds. Each set has one package, `marker`, whose file says which
// commit or source it came from, so the unpacked image shows what was built.
// NIXERY_REVISION_CACHE is 0 here so that a branch follows its new commit on the next pull;
// that the revision is kept for the cache time is shown with a manual clock in
// Core.Tests (GitSourceTests, ChannelSourceTests).
using System.Net;
using System.Text.Json;
using Nixery.Core.Manifests;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests;

public sealed class SourcesPullTests : IAsyncLifetime
{
    private readonly TempDir _folder = new("nixery-sources-e2e");

    private PackageSetRepo _repo = null!;

    private RegistryInstance _registry = null!;

    private string _first = "";

    private string _second = "";

    private int _pulls;

    public async Task InitializeAsync()
    {
        _repo = await PackageSetRepo.CreateAsync();
        _first = await _repo.CommitSetAsync("one", "first");
        _second = await _repo.CommitSetAsync("two", "second");
        var tarball = _folder.Combine("channel.tar.gz");
        await PackageSetRepo.WriteTarballAsync(tarball, "from-the-tarball");
        var local = _folder.Combine("local-set");
        PackageSetRepo.WriteSet(local, "from-the-folder");
        var multi = _folder.Combine("multi-system-set");
        PackageSetRepo.WriteSet(multi, "multi", ["x86_64-linux", "aarch64-linux"]);
        _registry = await RegistryInstance.StartAsync(_folder.Combine("storage"), new Dictionary<string, string?>
        {
            ["NIXERY_PKGS_PATH"] = null,
            ["NIXERY_PKGS_REPO"] = _repo.Path,
            ["NIXERY_SOURCES"] = $"tarball=channel:{new Uri(tarball).AbsoluteUri},local=path:{local},multi=path:{multi}",
            ["NIXERY_REVISION_CACHE"] = "0",
            ["NIXERY_SOURCE_CACHE"] = _folder.Combine("sources"),
        });
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        _repo.Dispose();
        _folder.Dispose();
    }

    /// <summary>Pulls with skopeo, unpacks with umoci, and reads the marker file of the image.</summary>
    private async Task<string> PullMarkerAsync(string reference)
    {
        var name = $"{Interlocked.Increment(ref _pulls)}-{reference.Replace('/', '-').Replace(':', '-')}";
        var oci = _folder.Combine("oci-" + name);
        (await Clients.SkopeoCopyAsync(_registry.HostPort, reference, oci)).EnsureSuccess("skopeo copy " + reference);
        var rootfs = await Clients.UnpackAsync(oci, _folder.Combine("bundle-" + name));
        var storePath = Assert.Single(Directory.GetDirectories(Path.Combine(rootfs, "nix", "store"), "*-marker"));
        return File.ReadAllText(Path.Combine(storePath, "share", "marker")).Trim();
    }

    [Fact]
    public async Task TheTagPicksTheCommitOfTheGitSource()
    {
        Assert.Equal("one", await PullMarkerAsync($"marker:{_first}"));
        Assert.Equal("two", await PullMarkerAsync($"marker:{_second}"));
        Assert.Equal("two", await PullMarkerAsync("marker:latest"));
    }

    [Fact]
    public async Task ABranchTagFollowsANewCommit()
    {
        Assert.Equal("two", await PullMarkerAsync("marker:main"));

        await _repo.CommitSetAsync("three", "third");

        Assert.Equal("three", await PullMarkerAsync("marker:main"));
    }

    [Fact]
    public async Task ATarballChannelIsChosenByTheFirstComponentOrByTag()
    {
        Assert.Equal("from-the-tarball", await PullMarkerAsync("tarball/marker:latest"));
        Assert.Equal("from-the-tarball", await PullMarkerAsync("marker:tarball"));
    }

    [Fact]
    public async Task ALocalFolderIsChosenByTheFirstComponent()
    {
        Assert.Equal("from-the-folder", await PullMarkerAsync("local/marker:latest"));
    }

    [Fact]
    public async Task AMultiSystemSetGivesAnOciIndexOfTheSystemsThisMachineBuilds()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/multi/marker/manifests/latest");
        request.Headers.TryAddWithoutValidation("Accept", $"{MediaTypes.OciIndex}, {MediaTypes.OciManifest}, {MediaTypes.DockerManifest}");
        using var response = await _registry.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MediaTypes.OciIndex, response.Content.Headers.ContentType?.MediaType);
        using var index = JsonDocument.Parse(body);
        var only = Assert.Single(index.RootElement.GetProperty("manifests").EnumerateArray());
        Assert.Equal(MediaTypes.OciManifest, only.GetProperty("mediaType").GetString());
        Assert.Equal("""{"architecture":"amd64","os":"linux"}""", only.GetProperty("platform").GetRawText());
        Assert.Equal("multi", await PullMarkerAsync("multi/marker:latest"));
    }

    [Fact]
    public async Task AClientThatTakesNoIndexGetsTheDockerManifestOfAMultiSystemImage()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/multi/marker/manifests/latest");
        request.Headers.TryAddWithoutValidation("Accept", MediaTypes.DockerManifest);
        using var response = await _registry.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MediaTypes.DockerManifest, response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AnArchitectureThisMachineCannotBuildIsANotFoundThatSaysSo()
    {
        var pull = await Clients.SkopeoCopyAsync(_registry.HostPort, "multi/arm64/marker:latest", _folder.Combine("oci-arm64"));

        Assert.NotEqual(0, pull.ExitCode);
        Assert.Contains("manifest unknown", pull.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("arm64 (aarch64-linux) images cannot be built here", pull.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATagThatIsNoBranchOrTagIsAManifestUnknownThatSaysSo()
    {
        var pull = await Clients.SkopeoCopyAsync(_registry.HostPort, "marker:nosuchbranch", _folder.Combine("oci-unknown"));

        Assert.NotEqual(0, pull.ExitCode);
        Assert.Contains("manifest unknown", pull.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"tag 'nosuchbranch' is not a branch or tag of {_repo.Path}", pull.Stderr, StringComparison.Ordinal);
    }
}
