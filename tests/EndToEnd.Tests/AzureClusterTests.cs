// Issue 3's cloud half on one machine: two HTTP apps and two workers, separate processes,
// sharing an Azure Storage account (Azurite). Real Nix builds, real skopeo.
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests;

[Collection(PullCollection.Name)]
public sealed class AzureClusterTests
{
    private static readonly Dictionary<string, string> WaitForBuild = new() { ["NIXERY_BUILD_WAIT"] = "600" };

    [Fact]
    public async Task FiftyConcurrentMissesOnTwoAppsCauseOneBuildAndEveryClientPulls()
    {
        await using var cluster = await AzureCluster.StartAsync();
        var (_, first) = await cluster.StartHttpAsync("http-1", WaitForBuild);
        var (_, second) = await cluster.StartHttpAsync("http-2", WaitForBuild);
        await cluster.StartWorkerAsync("worker-1");
        await cluster.StartWorkerAsync("worker-2");
        using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var response = await client.GetAsync(new Uri(i % 2 == 0 ? first : second, "v2/bash/curl/manifests/latest"));
            return (response.StatusCode, Digest: response.Headers.TryGetValues("Docker-Content-Digest", out var d) ? d.Single() : null);
        }));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Single(answers.Select(a => a.Digest).Distinct());
        Assert.Equal(1, cluster.NixBuilds);

        foreach (var (registry, name) in new[] { (first, "one"), (second, "two") })
        {
            var oci = Directory.CreateTempSubdirectory("nixery-azure-pull-").FullName;
            (await Clients.SkopeoCopyAsync($"{registry.Host}:{registry.Port}", "bash/curl:latest", oci)).EnsureSuccess($"skopeo copy from app {name}");
            Directory.Delete(oci, recursive: true);
        }

        await AssertBlobsRedirectToTheEmulatorWithTheirBytesAsync(cluster, first, "bash/curl");
        Assert.Equal(1, cluster.NixBuilds);
    }

    [Fact]
    public async Task AWorkerKilledWhilePackingLeavesNothingBrokenAndAnotherWorkerFinishesTheImage()
    {
        await using var cluster = await AzureCluster.StartAsync();
        var (_, registry) = await cluster.StartHttpAsync("http", WaitForBuild);
        // Short leases and claims: the doomed worker's job and its claim on the layer it was
        // packing lapse after 10 s instead of the defaults' minutes.
        var shortLease = new Dictionary<string, string> { ["NIXERY_QUEUE_VISIBILITY"] = "10", ["NIXERY_LAYER_CLAIM_TTL"] = "10" };
        var doomed = await cluster.StartWorkerAsync("doomed-worker", shortLease);
        using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };

        var pull = client.GetAsync(new Uri(registry, "v2/bash/python3/manifests/latest"));
        await doomed.WaitForLineAsync(@"packed layer \S+ 1/", TimeSpan.FromMinutes(5));
        doomed.Kill();
        // The survivor sweeps staging uploads older than 5 s: anything the doomed worker left.
        var survivor = await cluster.StartWorkerAsync("survivor", new Dictionary<string, string>(shortLease) { ["NIXERY_STAGING_MAX_AGE"] = "5" });
        using var response = await pull;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, doomed.CountLines("built image"));
        Assert.Equal(1, survivor.CountLines("built image"));
        var container = new BlobContainerClient(cluster.Azurite.ConnectionString, cluster.Container);
        await AssertEveryImageNamesOnlyExistingBlobsAsync(container);
        var leftover = new List<string>();
        await foreach (var staged in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "staging/", CancellationToken.None))
        {
            leftover.Add(staged.Name);
        }

        if (leftover.Count > 0)
        {
            // The doomed worker's upload, committed before it was moved: the sweep removes it.
            var swept = await survivor.WaitForLineAsync($@"swept {leftover.Count} stale staging uploads", TimeSpan.FromMinutes(2));
            Assert.Contains("azure-blob", swept, StringComparison.Ordinal);
            await foreach (var staged in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "staging/", CancellationToken.None))
            {
                Assert.Fail($"staging upload {staged.Name} was left behind after the sweep");
            }
        }
    }

    [Fact]
    public async Task AWorkerStoppedWithSigtermHandsItsJobBackAtOnce()
    {
        await using var cluster = await AzureCluster.StartAsync();
        var (_, registry) = await cluster.StartHttpAsync("http", WaitForBuild);
        // A long lease: only a job handed back explicitly can reach the next worker in time.
        var longLease = new Dictionary<string, string> { ["NIXERY_QUEUE_VISIBILITY"] = "3600" };
        var stopping = await cluster.StartWorkerAsync("stopping-worker", longLease);
        using var client = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };

        var pull = client.GetAsync(new Uri(registry, "v2/curl/git/perl/python3/manifests/latest"));
        await stopping.WaitForLineAsync(@"packed layer \S+ 1/", TimeSpan.FromMinutes(5));
        var exitCode = await stopping.StopAsync(TimeSpan.FromMinutes(1));
        var next = await cluster.StartWorkerAsync("next-worker", longLease);
        using var response = await pull;

        Assert.Equal(0, exitCode);
        Assert.Equal(1, stopping.CountLines("returning job .* to the queue on shutdown"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, next.CountLines("built image"));
    }

    [Fact]
    public async Task APackageSetThatAlwaysFailsEndsInThePoisonQueueAndA404WithTheReason()
    {
        var set = Directory.CreateTempSubdirectory("nixery-failing-set-").FullName;
        await File.WriteAllTextAsync(Path.Combine(set, "default.nix"), """
            { }:
            {
              broken = derivation {
                name = "always-broken";
                system = "x86_64-linux";
                builder = "/bin/sh";
                args = [ "-c" "echo deliberate failure for the poison test >&2; exit 3" ];
              };
            }
            """);
        await File.WriteAllTextAsync(Path.Combine(set, "nixery.json"),
            """{"name":"failing-fixture","linkClosure":false,"alwaysInclude":[],"shell":[],"system":"x86_64-linux"}""");
        await using var cluster = await AzureCluster.StartAsync(set);
        var (_, registry) = await cluster.StartHttpAsync("http", WaitForBuild);
        await cluster.StartWorkerAsync("worker");

        var pull = await Clients.SkopeoCopyAsync($"{registry.Host}:{registry.Port}", "broken:latest", Directory.CreateTempSubdirectory().FullName);

        Assert.NotEqual(0, pull.ExitCode);
        Assert.Contains("manifest unknown", pull.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Matches("builder for '/nix/store/[a-z0-9]{32}-always-broken.drv' failed", pull.Stderr);
        var poison = new QueueClient(cluster.Azurite.ConnectionString, cluster.QueueName + "-poison");
        var dead = (await poison.PeekMessagesAsync(maxMessages: 32)).Value;
        var message = Assert.Single(dead);
        Assert.Contains("always-broken", message.Body.ToString() + DecodeBase64(message.Body.ToString()), StringComparison.Ordinal);

        // Remembered: asking again answers from the recorded failure without starting Nix.
        using var client = new HttpClient();
        using var again = await client.GetAsync(new Uri(registry, "v2/broken/manifests/latest"));
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Contains("always-broken", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, cluster.NixBuilds);
        Directory.Delete(set, recursive: true);
    }

    private static string DecodeBase64(string text)
    {
        try
        {
            return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(text));
        }
        catch (FormatException)
        {
            return "";
        }
    }

    private static async Task AssertBlobsRedirectToTheEmulatorWithTheirBytesAsync(AzureCluster cluster, Uri registry, string image)
    {
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var plain = new HttpClient();
        using var manifestResponse = await plain.GetAsync(new Uri(registry, $"v2/{image}/manifests/latest"));
        using var manifest = JsonDocument.Parse(await manifestResponse.Content.ReadAsStringAsync());
        var digests = manifest.RootElement.GetProperty("layers").EnumerateArray()
            .Append(manifest.RootElement.GetProperty("config"))
            .Select(d => d.GetProperty("digest").GetString()!)
            .ToList();
        foreach (var digest in digests)
        {
            using var redirect = await noRedirect.GetAsync(new Uri(registry, $"v2/{image}/blobs/{digest}"));
            Assert.Equal(HttpStatusCode.TemporaryRedirect, redirect.StatusCode);
            var location = redirect.Headers.Location!;
            Assert.Equal(cluster.Azurite.BlobPort, location.Port);
            Assert.Contains("sp=r", location.Query, StringComparison.Ordinal);
            var bytes = await plain.GetByteArrayAsync(location);
            Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
    }

    private static async Task AssertEveryImageNamesOnlyExistingBlobsAsync(BlobContainerClient container)
    {
        var images = 0;
        await foreach (var entry in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "images/", CancellationToken.None))
        {
            images++;
            using var record = JsonDocument.Parse((await container.GetBlobClient(entry.Name).DownloadContentAsync()).Value.Content.ToString());
            var manifestDigest = record.RootElement.GetProperty("digest").GetString()!;
            var manifestBlob = container.GetBlobClient("blobs/sha256/" + manifestDigest["sha256:".Length..]);
            using var manifest = JsonDocument.Parse((await manifestBlob.DownloadContentAsync()).Value.Content.ToString());
            foreach (var descriptor in manifest.RootElement.GetProperty("layers").EnumerateArray().Append(manifest.RootElement.GetProperty("config")))
            {
                var digest = descriptor.GetProperty("digest").GetString()!;
                Assert.True((await container.GetBlobClient("blobs/sha256/" + digest["sha256:".Length..]).ExistsAsync()).Value, $"{digest} is named by an image but missing");
            }
        }

        Assert.Equal(1, images);
    }
}
