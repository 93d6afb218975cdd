// The web page (/), the image pages (/images/<name>) and the live build events (/events), on a
// registry of their own (no worker, no build wait), with records written straight into
// storage as a worker writes them: statuses through the ledger, images as blobs and records,
// the package index through RegistryStore. The clock is a FakeTimeProvider, so the page's
// caches (BuiltImages, BuildBoard) refresh only when a test moves the clock.
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Builds;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests;

public sealed class WebPageTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly TempDir _folder = new("nixery-functions-web");

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    private RegistryInstance _instance = null!;

    public async Task InitializeAsync() =>
        _instance = await RegistryInstance.StartAsync(
            _folder.Combine("storage"),
            new Dictionary<string, string?> { ["NIXERY_BUILD_WAIT"] = "0", ["NIXERY_WORKERS"] = "0" },
            services => services.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync()
    {
        await _instance.DisposeAsync();
        _folder.Dispose();
    }

    private SourceCatalog Sources => _instance.Services.GetRequiredService<SourceCatalog>();

    [Fact]
    public async Task ThePageShowsHowToPullTheSourcesWithTheirRevisionsAndLandmarks()
    {
        var revision = (await Sources.Default.ResolveAsync("latest", Ct)).Revision;

        using var response = await _instance.Client.GetAsync("/");
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"<pre>docker pull {_instance.HostPort}/shell/git/htop</pre>", page, StringComparison.Ordinal);
        Assert.Contains($"<tr><td>default</td><td>path</td><td><code>{RepoPaths.PackageSetDir}</code></td><td><code>{revision}</code></td></tr>", page, StringComparison.Ordinal);
        Assert.Contains("<title>Nixery on Azure</title>", page, StringComparison.Ordinal);
        Assert.Contains("<main id=\"main\">", page, StringComparison.Ordinal);
        Assert.Contains("<label for=\"q\">", page, StringComparison.Ordinal);
        Assert.Contains("<p id=\"builds-empty\">No builds in progress.</p>", page, StringComparison.Ordinal);
        Assert.Contains("<p>No image built yet.</p>", page, StringComparison.Ordinal);
        // The one inline script is allowed by its hash, and nothing else may run.
        var policy = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'sha256-", policy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASearchBeforeTheIndexExistsSaysSo()
    {
        var revision = (await Sources.Default.ResolveAsync("latest", Ct)).Revision;

        var page = await _instance.Client.GetStringAsync("/?q=git");

        Assert.Contains(
            $"<p role=\"status\" id=\"search-empty\">No package index of the default source at revision <code>{revision}</code> yet",
            page,
            StringComparison.Ordinal);
        Assert.Contains("value=\"git\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASearchListsMatchingPackagesOfTheDefaultSourceNameFirst()
    {
        var source = await Sources.Default.ResolveAsync("latest", Ct);
        await _instance.Store.PutPackageIndexAsync(
            new PackageIndex(source, [
                new IndexedPackage("gitFull", "2.43", "git with everything"),
                new IndexedPackage("git", "2.43", "distributed version control"),
                new IndexedPackage("htop", "3.3", "process viewer"),
                new IndexedPackage("tig", "2.5", "text-mode interface for git"),
                new IndexedPackage("legit", "1.2", null),
            ], ["shell"]),
            Ct);

        var page = await _instance.Client.GetStringAsync("/?q=GIT");

        Assert.Contains("<p role=\"status\">4 packages match <q>GIT</q>.</p>", page, StringComparison.Ordinal);
        var rows = Rows(page, "results");
        Assert.Equal(
            [
                $"<tr><td>git</td><td>2.43</td><td>distributed version control</td><td><code>docker pull {_instance.HostPort}/shell/git</code></td></tr>",
                $"<tr><td>gitFull</td><td>2.43</td><td>git with everything</td><td><code>docker pull {_instance.HostPort}/shell/gitFull</code></td></tr>",
                $"<tr><td>legit</td><td>1.2</td><td></td><td><code>docker pull {_instance.HostPort}/shell/legit</code></td></tr>",
                $"<tr><td>tig</td><td>2.5</td><td>text-mode interface for git</td><td><code>docker pull {_instance.HostPort}/shell/tig</code></td></tr>",
            ],
            rows);
        Assert.Contains("<p role=\"status\">No package matches <q>zzz</q>.</p>", await _instance.Client.GetStringAsync("/?q=zzz"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABuildInProgressIsListedWithItsPhaseAndLayersPacked()
    {
        var now = _time.GetUtcNow();
        await _instance.Ledger.ProgressAsync("k-building", "job-1", new LayerProgress(3, 7, now), "git/shell", Ct);
        await _instance.Ledger.StartAsync("k-nix", "job-2", "htop", Ct);
        await _instance.Ledger.ClaimAsync("k0123456789abcdef", "job-3", Ct);

        var page = await _instance.Client.GetStringAsync("/");

        Assert.Contains(
            "<li id=\"build-k-building\" data-state=\"building\" data-phase=\"packing layers\" data-image=\"git/shell\"><span class=\"image\">git/shell</span>"
            + "<span class=\"state\">building</span><span class=\"phase\">packing layers</span><progress max=\"7\" value=\"3\" aria-label=\"layers packed\"></progress>"
            + "<span class=\"layers\"> 3 of 7 layers packed</span></li>",
            page,
            StringComparison.Ordinal);
        Assert.Contains("<span class=\"image\">htop</span><span class=\"state\">building</span><span class=\"phase\">fetching the package source and building with Nix</span></li>", page, StringComparison.Ordinal);
        Assert.Contains("<span class=\"image\">image k0123456789a</span><span class=\"state\">queued</span><span class=\"phase\">waiting for a worker</span></li>", page, StringComparison.Ordinal);
        Assert.Contains("<p id=\"builds-empty\" hidden>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheImagePageDrawsOneBarPerLayerSizedByBytesAndMarkedShared()
    {
        var shared = Digest.Sha256("shared layer"u8).ToString();
        var own = Digest.Sha256("own layer"u8).ToString();
        var other = Digest.Sha256("other layer"u8).ToString();
        await PutImageAsync("git/shell", [(shared, 4000, "store paths glibc-2.36, bash-5.2"), (own, 1000, "store paths git-2.39")]);
        await PutImageAsync("htop/shell", [(shared, 4000, "store paths glibc-2.36, bash-5.2"), (other, 500, "store paths htop-3.2")]);
        await PutImageAsync("curl/shell", [(shared, 4000, "store paths glibc-2.36, bash-5.2")]);

        using var response = await _instance.Client.GetAsync("/images/shell/git");
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains($"<pre id=\"pull\">docker pull {_instance.HostPort}/shell/git</pre>", page, StringComparison.Ordinal);
        Assert.Contains("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"layers\" role=\"img\" aria-labelledby=\"layers-title layers-desc\"", page, StringComparison.Ordinal);
        Assert.Contains("<title id=\"layers-title\">Layers of shell/git</title>", page, StringComparison.Ordinal);
        Assert.Contains(
            "<desc id=\"layers-desc\">2 layers, 4.9 KiB in all; 1 of them shared with other images (blue), 1 held by this image only (grey). Bar length is the layer&#39;s compressed size.</desc>",
            page,
            StringComparison.Ordinal);
        Assert.Contains(
            $"<g class=\"layer\" data-digest=\"{shared}\" data-size=\"4000\" data-shared-with=\"2\"><title>layer 1: 3.9 KiB, shared with 2 other images; store paths glibc-2.36, bash-5.2</title>"
            + "<rect x=\"0\" y=\"4\" width=\"420\" height=\"28\" rx=\"3\" fill=\"#0b57d0\"/>",
            page,
            StringComparison.Ordinal);
        Assert.Contains(
            $"<g class=\"layer\" data-digest=\"{own}\" data-size=\"1000\" data-shared-with=\"0\"><title>layer 2: 1000 B, this image only; store paths git-2.39</title>"
            + "<rect x=\"0\" y=\"44\" width=\"105\" height=\"28\" rx=\"3\" fill=\"#5a5a5a\"/>",
            page,
            StringComparison.Ordinal);
        Assert.Contains($"<tr><td>1</td><td>3.9 KiB</td><td>2 other images</td><td>store paths glibc-2.36, bash-5.2</td><td><code title=\"{shared}\">{shared[..19]}</code></td></tr>", page, StringComparison.Ordinal);

        // The landing page lists the three as recent builds, a named one linking to its picture.
        var landing = await _instance.Client.GetStringAsync("/");
        Assert.Contains("<tr><td><a href=\"/images/git/shell\">git/shell</a></td><td>git shell</td><td>2</td>", landing, StringComparison.Ordinal);
        Assert.Contains("<tr><td><span class=\"muted\">(not recorded)</span></td><td>curl shell</td><td>1</td>", landing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheImagePageOfAnImageNotBuiltYetIsANotFoundPageWithItsBuildState()
    {
        var (selection, source) = await Sources.ResolveAsync("hello", "latest", Ct);
        await _instance.Ledger.FailAsync(ImageKeys.For(ImageRequest.FromName(selection.Packages), source), new BuildFailure("hello", "packages not found: hello"), Ct);

        using var failed = await _instance.Client.GetAsync("/images/hello");
        using var unknown = await _instance.Client.GetAsync("/images/shell/neverbuilt");

        Assert.Equal(HttpStatusCode.NotFound, failed.StatusCode);
        Assert.Contains("<p id=\"not-built\">This image has not been built yet (its build is failed: packages not found: hello).", await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("text/html", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"<pre id=\"pull\">docker pull {_instance.HostPort}/shell/neverbuilt</pre>", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/images/Shell/Git", "NAME_INVALID")]
    [InlineData("/images/", "NAME_INVALID")]
    [InlineData("/images/shell?tag=no%20tag", "TAG_INVALID")]
    public async Task AnImagePageOfABadReferenceIsARegistryError(string target, string code)
    {
        using var response = await _instance.Client.GetAsync(target);

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.BadRequest, code);
    }

    /// <summary>Stores an image as a worker does: config and manifest blobs, then the record
    /// under the key a pull of <paramref name="name"/> resolves to.</summary>
    private async Task PutImageAsync(string name, IReadOnlyList<(string Digest, long Size, string Paths)> layers)
    {
        var config = new ImageConfig(
            "1970-01-01T00:00:01Z",
            "amd64",
            "linux",
            new ContainerConfig(null, ["PATH=/bin"], null),
            new RootFs("layers", [.. layers.Select(l => l.Digest)]),
            [.. layers.Select(l => new HistoryEntry("1970-01-01T00:00:01Z", "nixery: " + l.Paths, "store paths"))]);
        var configBytes = JsonSerializer.SerializeToUtf8Bytes(config, CoreJson.Default.ImageConfig);
        var configDigest = await _instance.Store.PutBlobAsync(configBytes, MediaTypes.DockerConfig, Ct);
        var manifest = new ImageManifest(
            2,
            MediaTypes.DockerManifest,
            new Descriptor(MediaTypes.DockerConfig, configBytes.Length, configDigest.ToString()),
            [.. layers.Select(l => new Descriptor(MediaTypes.DockerLayerGzip, l.Size, l.Digest))]);
        var manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest, CoreJson.Default.ImageManifest);
        var manifestDigest = await _instance.Store.PutBlobAsync(manifestBytes, MediaTypes.DockerManifest, Ct);
        var (selection, source) = await Sources.ResolveAsync(name, "latest", Ct);
        var request = ImageRequest.FromName(selection.Packages);
        if (request.Name != "curl/shell")
        {
            // As a worker says it is done; curl/shell stands for an image built before done named it.
            await _instance.Ledger.SucceedAsync(ImageKeys.For(request, source), "job", request.Name, Ct);
        }

        await _instance.Store.PutImageAsync(
            ImageKeys.For(request, source),
            new ImageRecord(manifestDigest.ToString(), MediaTypes.DockerManifest, manifestBytes.Length, request.Packages),
            Ct);
    }

    /// <summary>The data rows of the table with the id, as printed.</summary>
    private static List<string> Rows(string page, string tableId)
    {
        var start = page.IndexOf($"<table id=\"{tableId}\">", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no table {tableId}");
        var table = page[start..page.IndexOf("</table>", start, StringComparison.Ordinal)];
        return [.. table.Split('\n').Where(l => l.StartsWith("<tr><td>", StringComparison.Ordinal))];
    }
}
