// Issue 13, Done-when 2: a flood of made-up names does not delay a real pull. On the embedded
// default run as a user runs it (dotnet Nixery.Embedded.dll, its own loopback port), real Nix and
// real skopeo with its own 429 retries. Before the package index, 300 concurrent pulls of made-up
// names queued one real cold build 36 s behind them (one first-in-first-out worker evaluating
// each bogus name) and wrote 600 status files.
//
// First one real build, which also publishes the package index of the source's revision; then
// 300 concurrent manifest requests for random made-up names and, while they are in flight, one
// real cold pull of another image. The bogus names must all be answered 404 from the index with
// no build job and no status file, and the real pull must succeed within its first client retry
// window: the build wait (NIXERY_BUILD_WAIT, 20 s) plus at most one 429 and its retry, what a
// cold build of that image needs on its own (CrashRecoveryTests measures the same bound).
// Also here, as it needs a real build: NIXERY_MAX_IMAGE_BYTES refuses a closure before packing.
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Nixery.TestSupport;
using Xunit.Abstractions;

namespace Nixery.EndToEnd.Tests;

[Collection(PullCollection.Name)]
public sealed class FloodTests(ITestOutputHelper output)
{
    private const int Bogus = 300;

    [Fact]
    public async Task ThreeHundredMadeUpNamesQueueNoBuildAndARealColdPullDuringThemNeedsAtMostOne429()
    {
        using var root = new TempDir("nixery-flood");
        var storage = root.Combine("storage");
        var port = EmbeddedProcess.FreePort();
        var settings = EmbeddedProcess.Settings(storage, port);
        var hostPort = $"127.0.0.1:{port}";
        await using var registry = ServiceProcess.Start("embedded-flood", EmbeddedProcess.Assembly, settings);
        await registry.WaitForLineAsync("Now listening on", TimeSpan.FromMinutes(1));

        // One real build: it publishes the index of the offline set at its revision.
        using (var first = new TempDir("nixery-flood-first"))
        {
            (await Clients.SkopeoCopyAsync(hostPort, "bash:latest", first.Path)).EnsureSuccess("skopeo copy bash");
        }

        output.WriteLine(await registry.WaitForLineAsync("published package index", TimeSpan.FromMinutes(1)));
        var index = Assert.Single(Directory.GetFiles(Path.Combine(storage, "indexes"), "*.json"));
        using (var json = JsonDocument.Parse(File.ReadAllText(index)))
        {
            var names = json.RootElement.GetProperty("packages").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
            Assert.Contains("bash", names);
            Assert.Contains("debian", names);
            Assert.Contains("shell", json.RootElement.GetProperty("metaPackages").EnumerateArray().Select(m => m.GetString()));
        }

        var jobsBefore = registry.CountLines("enqueued build of");
        var statusBefore = StatusFiles(storage);
        Assert.Equal(1, jobsBefore);

        // The flood, all at once from one client, and the real pull while it is in flight.
        using var http = new HttpClient { BaseAddress = new Uri($"http://{hostPort}/"), Timeout = TimeSpan.FromMinutes(5) };
        var flood = Stopwatch.StartNew();
        var bogus = Enumerable.Range(0, Bogus)
            .Select(_ => http.GetAsync($"/v2/nosuch{Guid.NewGuid():N}"[..24] + "/manifests/latest"))
            .ToList();
        using var pulled = new TempDir("nixery-flood-pull");
        var pull = Stopwatch.StartNew();
        var realPull = Clients.SkopeoCopyAsync(hostPort, "curl:latest", pulled.Path);
        var answers = await Task.WhenAll(bogus);
        flood.Stop();
        var result = await realPull;
        pull.Stop();

        result.EnsureSuccess("skopeo copy curl during the flood");
        var statuses = answers.GroupBy(a => (int)a.StatusCode).ToDictionary(g => g.Key, g => g.Count());
        foreach (var answer in answers)
        {
            answer.Dispose();
        }

        var answered429 = registry.CountLines(@"image curl still building");
        output.WriteLine($"{Bogus} made-up names answered in {flood.Elapsed.TotalSeconds:F1} s ({string.Join(", ", statuses.Select(s => $"{s.Value}× {s.Key}"))}); real cold pull of curl during them: {pull.Elapsed.TotalSeconds:F1} s, {answered429} answers 429; build jobs {jobsBefore} → {registry.CountLines("enqueued build of")}, status files {statusBefore} → {StatusFiles(storage)}");
        Assert.Equal(new Dictionary<int, int> { [404] = Bogus }, statuses);
        // The bogus names caused no job and no status: the only new ones are curl's.
        Assert.Equal(jobsBefore + 1, registry.CountLines("enqueued build of"));
        Assert.Equal(statusBefore + 1, StatusFiles(storage));
        Assert.Equal(0, registry.CountLines("enqueued build of nosuch"));
        Assert.InRange(answered429, 0, 1);
        Assert.NotEmpty(Clients.OciLayerDigests(pulled.Path));
    }

    /// <summary>Fairness, measured where the index cannot help: a revision no build has indexed
    /// yet. One client's flood of made-up names reaches the queue only up to its cap
    /// (NIXERY_MAX_QUEUED_PER_CLIENT, 10), until the first of them has published the index;
    /// another client's cold pull during it goes behind at most those.</summary>
    [Fact]
    public async Task BeforeAnyIndexOneClientsFloodQueuesAtMostItsCapAndAnotherClientsColdPullNeedsAtMostOne429()
    {
        using var root = new TempDir("nixery-flood-fair");
        var storage = root.Combine("storage");
        var port = EmbeddedProcess.FreePort();
        var settings = EmbeddedProcess.Settings(storage, port);
        // The flood says it comes from 198.51.100.7 and skopeo from loopback: two clients.
        settings["NIXERY_TRUST_FORWARDED_FOR"] = "on";
        var hostPort = $"127.0.0.1:{port}";
        await using var registry = ServiceProcess.Start("embedded-fair", EmbeddedProcess.Assembly, settings);
        await registry.WaitForLineAsync("Now listening on", TimeSpan.FromMinutes(1));

        using var http = new HttpClient { BaseAddress = new Uri($"http://{hostPort}/"), Timeout = TimeSpan.FromMinutes(5) };
        var bogus = Enumerable.Range(0, Bogus).Select(_ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/nosuch{Guid.NewGuid():N}"[..24] + "/manifests/latest");
            request.Headers.Add("X-Forwarded-For", "198.51.100.7");
            return http.SendAsync(request);
        }).ToList();
        using var pulled = new TempDir("nixery-flood-fair-pull");
        var pull = Stopwatch.StartNew();
        var result = await Clients.SkopeoCopyAsync(hostPort, "curl:latest", pulled.Path);
        pull.Stop();
        var answers = await Task.WhenAll(bogus);
        result.EnsureSuccess("skopeo copy curl during another client's flood");
        var statuses = answers.GroupBy(a => (int)a.StatusCode).ToDictionary(g => g.Key, g => g.Count());
        foreach (var answer in answers)
        {
            answer.Dispose();
        }

        var bogusJobs = registry.CountLines("enqueued build of nosuch");
        var answered429 = registry.CountLines(@"image curl still building");
        output.WriteLine($"{Bogus} made-up names from one client with no index yet: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Value}× {s.Key}"))}; {bogusJobs} build jobs; another client's cold pull of curl: {pull.Elapsed.TotalSeconds:F1} s, {answered429} answers 429");
        Assert.InRange(bogusJobs, 1, 10);
        Assert.Equal(Bogus, statuses.GetValueOrDefault(404) + statuses.GetValueOrDefault(429));
        Assert.InRange(answered429, 0, 1);
        Assert.NotEmpty(Clients.OciLayerDigests(pulled.Path));
    }

    [Fact]
    public async Task AClosureLargerThanTheImageLimitFailsBeforePackingNamingTheLimit()
    {
        using var root = new TempDir("nixery-max-bytes");
        await using var registry = await RegistryInstance.StartAsync(root.Combine("storage"), new Dictionary<string, string?>
        {
            ["NIXERY_MAX_IMAGE_BYTES"] = "100000",
            ["NIXERY_BUILD_WAIT"] = "300",
        });

        using var response = await registry.Client.GetAsync("/v2/bash/manifests/latest");

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.NotFound, body);
        using var json = JsonDocument.Parse(body);
        var error = json.RootElement.GetProperty("errors")[0];
        Assert.Equal("MANIFEST_UNKNOWN", error.GetProperty("code").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.Matches(@"closure is \d+ bytes .* limit of 100000 bytes \(NIXERY_MAX_IMAGE_BYTES\)", message);
        // Refused before packing: no layer was stored.
        var blobs = Path.Combine(registry.StoragePath, "blobs");
        Assert.Empty(Directory.Exists(blobs) ? Directory.GetFiles(blobs, "*", SearchOption.AllDirectories) : []);
    }

    private static int StatusFiles(string storage) =>
        Directory.Exists(Path.Combine(storage, "status")) ? Directory.GetFiles(Path.Combine(storage, "status"), "*.json", SearchOption.AllDirectories).Length : 0;
}
