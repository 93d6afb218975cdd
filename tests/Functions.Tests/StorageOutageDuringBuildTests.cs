// Issue 16, Done when 2, for a real build: Azurite is stopped while the embedded worker is
// packing the layers of shell/git (real Nix, the offline package set) onto it, and stays
// down until the worker has given up on the storage — past the Azure SDK's retries
// (StorageCallPolicy) — and said so. Meanwhile the manifest request of the image being built
// and a warm pull of another image are answered; none is a 500, each within its budget + 2 s.
// Azurite then comes back at the same endpoint with the same data, the build runs again in
// the same delivery (BuildJobRunner waits for the storage rather than fail it), and
// the pull succeeds: the manifest, its config and every layer hash to their digests, and the
// storage consistency check (tests/TestSupport/StorageConsistency) finds nothing wrong.
// StorageOutageTests covers the same answers with no build running (NIXERY_WORKERS 0).
// Synchronised on the status record (packing begun, layers left) and on the worker's own log
// line, never on sleeps; polls have a cap.
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nixery.Builder.Worker;
using Nixery.Core.Builds;
using Nixery.Core.Storage;
using Nixery.Functions.Registry;
using Nixery.TestSupport;
using Xunit.Abstractions;

using static Nixery.Functions.Tests.OutageRequests;

namespace Nixery.Functions.Tests;

public sealed class StorageOutageDuringBuildTests(ITestOutputHelper output) : IDisposable
{
    private const int BuildWaitSeconds = 10;
    private const int RetryAfterSeconds = 1;

    /// <summary>The most a condition is polled for before the test fails; the rebuild after the
    /// outage reuses the layers packed before it, so it is shorter than the first.</summary>
    private static readonly TimeSpan PollCap = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan ManifestBudget =
        TimeSpan.FromSeconds(BuildWaitSeconds + RetryAfterSeconds) > RequestBudget.Default ? TimeSpan.FromSeconds(BuildWaitSeconds + RetryAfterSeconds) : RequestBudget.Default;

    private readonly TempDir _folder = new("nixery-outage-build");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task StorageStoppedWhileABuildPacksIsNever500AndTheImagePullsWholeOnceItReturns()
    {
        var (blobPort, queuePort) = Azurite.FreePorts();
        var location = _folder.Combine("azurite");
        var azurite = await Azurite.StartAtAsync(blobPort, queuePort, location);
        var worker = new LogLines(typeof(BuildWorker).FullName!, typeof(BuildJobRunner).FullName!);
        try
        {
            await using var registry = await RegistryInstance.StartAsync(_folder.Combine("storage"), new Dictionary<string, string?>
            {
                ["NIXERY_STORAGE_BACKEND"] = "azure",
                ["AZURE_STORAGE_CONNECTION_STRING"] = Azurite.ConnectionStringFor(blobPort, queuePort),
                ["NIXERY_WORKERS"] = "1",
                ["NIXERY_BUILD_WAIT"] = BuildWaitSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["NIXERY_RETRY_AFTER"] = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }, services => services.AddSingleton<ILoggerProvider>(worker));
            using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = registry.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            var warm = await PutImageAsync(registry, "warm/shell");
            var answers = new List<(string What, HttpStatusCode Status, TimeSpan Elapsed, TimeSpan Budget)>();

            // The pull that starts the build; it answers 429 within its wait, or 200.
            var key = await ImageKeyAsync(registry, "shell/git");
            var first = TimedGetAsync(client, "/v2/shell/git/manifests/latest");

            // Packing has begun and layers are left: the worker is writing to the storage now.
            BuildStatus? packing = null;
            await UntilAsync(
                async () => (packing = await registry.Ledger.GetAsync(key, CancellationToken.None)) is { State: BuildState.Building, LayersTotal: > 0 } s && s.LayersReady < s.LayersTotal,
                "the build of shell/git is packing",
                PollCap);
            await azurite.StopAsync();
            output.WriteLine($"stopped Azurite with {packing!.LayersReady} of {packing.LayersTotal} layers ready");

            var during = await Task.WhenAll(
                TimedGetAsync(client, "/v2/shell/git/manifests/latest"),
                TimedGetAsync(client, "/v2/warm/shell/manifests/latest"),
                TimedGetAsync(client, $"/v2/warm/shell/blobs/{warm.Layer}"));
            answers.Add(("down: manifest of the image being built", during[0].Response.StatusCode, during[0].Elapsed, ManifestBudget));
            answers.Add(("down: warm manifest", during[1].Response.StatusCode, during[1].Elapsed, ManifestBudget));
            answers.Add(("down: warm blob", during[2].Response.StatusCode, during[2].Elapsed, RequestBudget.Default));
            foreach (var (response, _) in during)
            {
                await AssertRetryLaterAsync(response);
            }

            // The worker's calls failed past the SDK's retries; it waits for the storage within
            // the same delivery (BuildJobRunner), not spending one of the job's deliveries.
            var stopped = await worker.UntilAsync(" stopped by a storage outage", PollCap);
            output.WriteLine($"worker: {stopped}");
            Assert.EndsWith("it runs again in this delivery once the storage answers", stopped, StringComparison.Ordinal);
            var firstAnswer = await first;
            answers.Add(("first manifest request", firstAnswer.Response.StatusCode, firstAnswer.Elapsed, ManifestBudget));

            await using (var back = await Azurite.StartAtAsync(blobPort, queuePort, location))
            {
                // Pulled as a client does: retry on 429/503 as Retry-After says, until 200.
                var clock = Stopwatch.StartNew();
                HttpResponseMessage manifest;
                while (true)
                {
                    var (response, elapsed) = await TimedGetAsync(client, "/v2/shell/git/manifests/latest");
                    answers.Add(("back: manifest", response.StatusCode, elapsed, ManifestBudget));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        manifest = response;
                        break;
                    }

                    await AssertRetryLaterAsync(response);
                    Assert.True(clock.Elapsed < PollCap, $"shell/git was not served within {PollCap} of Azurite's return; last answer {(int)response.StatusCode}");
                    await Task.Delay(response.Headers.RetryAfter!.Delta!.Value);
                }

                output.WriteLine($"shell/git served {clock.Elapsed.TotalSeconds:0.0} s after Azurite returned");
                foreach (var (what, status, elapsed, budget) in answers)
                {
                    output.WriteLine($"{what}: {(int)status} in {elapsed.TotalMilliseconds:0} ms (budget {budget.TotalSeconds:0} s)");
                }

                Assert.All(answers, a => Assert.NotEqual(HttpStatusCode.InternalServerError, a.Status));
                Assert.All(answers, a => Assert.True(a.Elapsed <= a.Budget + Slack, $"{a.What} answered after {a.Elapsed}, past its budget {a.Budget} + {Slack}"));

                await AssertPullsWholeAsync(client, "shell/git", manifest);
                var warmManifest = await client.GetAsync("/v2/warm/shell/manifests/latest");
                Assert.Equal(HttpStatusCode.OK, warmManifest.StatusCode);

                var (faults, images, blobs, layerRecords) = await StorageConsistency.CheckAsync(registry.Services.GetRequiredService<IStorageBackend>(), CancellationToken.None);
                output.WriteLine($"consistency: {images} images, {blobs} blobs, {layerRecords} layer records checked");
                Assert.Empty(faults);
                Assert.True(images >= 2 && layerRecords > 10, $"{images} images and {layerRecords} layer records checked");
            }
        }
        finally
        {
            await azurite.DisposeAsync();
        }
    }

    /// <summary>The manifest hashes to its digest header; its config and every layer, fetched
    /// through their redirects as a client does, hash to theirs.</summary>
    private static async Task AssertPullsWholeAsync(HttpClient client, string name, HttpResponseMessage manifest)
    {
        var bytes = await manifest.Content.ReadAsByteArrayAsync();
        Assert.Equal(manifest.Headers.GetValues("Docker-Content-Digest").Single(), Sha256(bytes));
        using var document = JsonDocument.Parse(bytes);
        var digests = document.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!)
            .Prepend(document.RootElement.GetProperty("config").GetProperty("digest").GetString()!);
        using var direct = new HttpClient();
        foreach (var digest in digests)
        {
            var blob = await client.GetAsync($"/v2/{name}/blobs/{digest}");
            Assert.Equal(HttpStatusCode.TemporaryRedirect, blob.StatusCode);
            Assert.Equal(digest, Sha256(await direct.GetByteArrayAsync(blob.Headers.Location)));
        }
    }

    private static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
}
