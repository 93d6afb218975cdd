// The registry through storage faults (issue 16, points 1 and 2), on the real thing: the
// embedded default (the same HTTP functions the function app runs) on Azure Blob Storage
// as Azurite serves it, over real HTTP, with Azurite absent, hung (SIGSTOP) and stopped
// (SIGTERM) under it. What must hold:
//   - the app starts while nothing listens at the storage's endpoint: /v2/ is 200 at once,
//     registry requests and /healthz are 503 (UNAVAILABLE, Retry-After, the storage named),
//     and once Azurite comes up the same process serves, without a restart;
//   - no answer is a 500 while storage is hung or down, during a warm pull and while a
//     manifest request waits for a build, and each answer arrives within its budget + 2 s
//     (RequestBudget: 10 s; a manifest max(10 s, NIXERY_BUILD_WAIT + NIXERY_RETRY_AFTER));
//     after Azurite returns, the pull succeeds and the bytes hash to their digests;
//   - the embedded worker waits for the storage and logs one line when it goes and one when
//     it is back; the HTTP function app under the host emulator starts without it too.
// Elapsed times are written to the test output; only the budget bound is asserted. Nothing
// waits by sleeping: the tests poll conditions (health 200, the build claimed) with a cap.
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Nixery.Core.Storage;
using Nixery.Functions.Registry;
using Nixery.TestSupport;
using Xunit.Abstractions;

using static Nixery.Functions.Tests.OutageRequests;

namespace Nixery.Functions.Tests;

public sealed class StorageOutageTests(ITestOutputHelper output) : IDisposable
{
    private const int BuildWaitSeconds = 10;
    private const int RetryAfterSeconds = 1;

    /// <summary>The most a condition is polled for before the test fails.</summary>
    private static readonly TimeSpan PollCap = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    private readonly TempDir _folder = new("nixery-storage-outage");

    private static TimeSpan ManifestBudget
    {
        get
        {
            var waiting = TimeSpan.FromSeconds(BuildWaitSeconds + RetryAfterSeconds);
            return waiting > RequestBudget.Default ? waiting : RequestBudget.Default;
        }
    }

    [Fact]
    public async Task AppStartsWithoutStorageAnswers503ThenServesOnceStorageComes()
    {
        var (blobPort, queuePort) = Azurite.FreePorts();
        var clock = Stopwatch.StartNew();
        await using var registry = await RegistryInstance.StartAsync(_folder.Combine("storage"), Settings(blobPort, queuePort));
        var startedIn = clock.Elapsed;
        using var client = NoRedirects(registry);

        var (v2, v2Elapsed) = await TimedGetAsync(client, "/v2/");
        Assert.Equal(HttpStatusCode.OK, v2.StatusCode);

        var (manifest, manifestElapsed) = await TimedGetAsync(client, "/v2/outage/shell/manifests/latest");
        var message = await AssertUnavailableAsync(manifest);
        Assert.Contains($"http://127.0.0.1:{blobPort}/{Azurite.AccountName}", message, StringComparison.Ordinal);
        Assert.InRange(manifestElapsed, TimeSpan.Zero, ManifestBudget + Slack);

        var (health, _) = await TimedGetAsync(client, "/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.NotNull(health.Headers.RetryAfter);
        Assert.Contains("\"storage\":\"unreachable\"", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        output.WriteLine($"storage down: started in {startedIn.TotalMilliseconds:0} ms; /v2/ 200 in {v2Elapsed.TotalMilliseconds:0} ms; manifest 503 in {manifestElapsed.TotalMilliseconds:0} ms");

        await using var azurite = await Azurite.StartAtAsync(blobPort, queuePort, _folder.Combine("azurite"));
        var healthyAfter = await UntilHealthyAsync(client);
        output.WriteLine($"Azurite up: /healthz 200 after {healthyAfter.TotalMilliseconds:0} ms");

        // The same process serves: an unknown digest is the spec's 404, and an image put in
        // place (the container is the one the app created lazily) is served.
        var unknown = await client.GetAsync("/v2/outage/shell/manifests/sha256:" + new string('0', 64));
        await ErrorAssert.HasErrorAsync(unknown, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        var image = await PutImageAsync(registry, "outage/shell");
        var served = await client.GetAsync("/v2/outage/shell/manifests/latest");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(image.Manifest.ToString(), served.Headers.GetValues("Docker-Content-Digest").Single());
    }

    [Fact]
    public async Task StorageHungOrStoppedDuringPullAndBuildWaitIsNever500AndWithinBudget()
    {
        var (blobPort, queuePort) = Azurite.FreePorts();
        var location = _folder.Combine("azurite");
        var azurite = await Azurite.StartAtAsync(blobPort, queuePort, location);
        try
        {
            await using var registry = await RegistryInstance.StartAsync(_folder.Combine("storage"), Settings(blobPort, queuePort));
            using var client = NoRedirects(registry);
            var warm = await PutImageAsync(registry, "warm/shell");
            await AssertWarmPullAsync(client, warm);
            var answers = new List<(string What, HttpStatusCode Status, TimeSpan Elapsed, TimeSpan Budget)>();

            // A manifest request waits for a build nobody runs (NIXERY_WORKERS 0): once the
            // build is claimed, the request is in its wait, and storage hangs under it.
            var waitingKey = await ImageKeyAsync(registry, "waiting/shell");
            var waiting = TimedGetAsync(client, "/v2/waiting/shell/manifests/latest");
            await UntilAsync(async () => await registry.Ledger.GetAsync(waitingKey, CancellationToken.None) is not null, "the build of waiting/shell is claimed", PollCap);
            await azurite.PauseAsync();
            var hung = await Task.WhenAll(
                waiting,
                TimedGetAsync(client, "/v2/warm/shell/manifests/latest"),
                TimedGetAsync(client, $"/v2/warm/shell/blobs/{warm.Layer}"));
            answers.Add(("hung: manifest waiting for a build", hung[0].Response.StatusCode, hung[0].Elapsed, ManifestBudget));
            answers.Add(("hung: warm manifest", hung[1].Response.StatusCode, hung[1].Elapsed, ManifestBudget));
            answers.Add(("hung: warm blob", hung[2].Response.StatusCode, hung[2].Elapsed, RequestBudget.Default));
            foreach (var (response, _) in hung)
            {
                await AssertRetryLaterAsync(response);
            }

            await azurite.ResumeAsync();
            await UntilHealthyAsync(client);

            // Stopped: a request for another image is in its wait (its build claimed) when the
            // storage process goes away.
            var stoppedKey = await ImageKeyAsync(registry, "waiting/stopped");
            var waitingAgain = TimedGetAsync(client, "/v2/waiting/stopped/manifests/latest");
            await UntilAsync(async () => await registry.Ledger.GetAsync(stoppedKey, CancellationToken.None) is not null, "the build of waiting/stopped is claimed", PollCap);
            await azurite.StopAsync();
            var down = await Task.WhenAll(
                waitingAgain,
                TimedGetAsync(client, "/v2/warm/shell/manifests/latest"),
                TimedGetAsync(client, $"/v2/warm/shell/blobs/{warm.Layer}"),
                TimedGetAsync(client, "/v2/warm/shell/tags/list"));
            answers.Add(("stopped: manifest waiting for a build", down[0].Response.StatusCode, down[0].Elapsed, ManifestBudget));
            answers.Add(("stopped: warm manifest", down[1].Response.StatusCode, down[1].Elapsed, ManifestBudget));
            answers.Add(("stopped: warm blob", down[2].Response.StatusCode, down[2].Elapsed, RequestBudget.Default));
            answers.Add(("stopped: tags/list", down[3].Response.StatusCode, down[3].Elapsed, RequestBudget.Default));
            foreach (var (response, _) in down.Take(3))
            {
                await AssertRetryLaterAsync(response);
            }

            var (health, _) = await TimedGetAsync(client, "/healthz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            var (v2, _) = await TimedGetAsync(client, "/v2/");
            Assert.Equal(HttpStatusCode.OK, v2.StatusCode);

            foreach (var (what, status, elapsed, budget) in answers)
            {
                output.WriteLine($"{what}: {(int)status} in {elapsed.TotalMilliseconds:0} ms (budget {budget.TotalSeconds:0} s)");
            }

            Assert.All(answers, a => Assert.NotEqual(HttpStatusCode.InternalServerError, a.Status));
            Assert.All(answers, a => Assert.True(a.Elapsed <= a.Budget + Slack, $"{a.What} answered after {a.Elapsed}, past its budget {a.Budget} + {Slack}"));

            // Azurite returns at the same endpoint with the same data: the pull succeeds.
            await azurite.DisposeAsync();
            azurite = await Azurite.StartAtAsync(blobPort, queuePort, location);
            var back = await UntilHealthyAsync(client);
            output.WriteLine($"Azurite back: /healthz 200 after {back.TotalMilliseconds:0} ms");
            await AssertWarmPullAsync(client, warm);
        }
        finally
        {
            await azurite.DisposeAsync();
        }
    }

    [Fact]
    public async Task EmbeddedWorkerWaitsForStorageAndLogsOneLineWhenItGoesAndOneWhenItIsBack()
    {
        var (blobPort, queuePort) = Azurite.FreePorts();
        var health = new LogLines(typeof(StorageHealth).FullName!);
        var settings = Settings(blobPort, queuePort);
        settings["NIXERY_WORKERS"] = "1";
        await using var registry = await RegistryInstance.StartAsync(
            _folder.Combine("storage"), settings, services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(health));

        // The worker loop (and the staging sweeper) find the storage gone: one line, not one a try.
        Assert.Contains(" is unreachable: ", await health.NextAsync(PollCap), StringComparison.Ordinal);
        await using var azurite = await Azurite.StartAtAsync(blobPort, queuePort, _folder.Combine("azurite"));
        Assert.EndsWith(" is reachable again", await health.NextAsync(PollCap), StringComparison.Ordinal);
        using var client = NoRedirects(registry);
        var (v2, _) = await TimedGetAsync(client, "/v2/");
        Assert.Equal(HttpStatusCode.OK, v2.StatusCode);
    }

    [Fact]
    public async Task FunctionAppStartsWithoutStorageAnswers503ThenEnqueuesOnceStorageComes()
    {
        // The host's own storage (AzureWebJobsStorage) runs; the registry's account does not yet.
        await using var hostStorage = await Azurite.StartAsync();
        var (blobPort, queuePort) = Azurite.FreePorts();
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = hostStorage.ConnectionString,
            ["NIXERY_STORAGE_BACKEND"] = "azure",
            ["AZURE_STORAGE_CONNECTION_STRING"] = Azurite.ConnectionStringFor(blobPort, queuePort),
            ["NIXERY_PKGS_PATH"] = RepoPaths.PackageSetDir,
            ["NIXERY_BUILD_WAIT"] = "0",
        };
        await using var host = await FunctionsHost.FunctionsHost.StartAsync(new FunctionsHost.FunctionsHostOptions
        {
            Name = "http",
            AppDirectory = FunctionsHostFixture.AppDirectory,
            AppSettings = settings,
        });
        using var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };

        var (v2, v2Elapsed) = await TimedGetAsync(client, "/v2/");
        Assert.Equal(HttpStatusCode.OK, v2.StatusCode);
        var (manifest, manifestElapsed) = await TimedGetAsync(client, "/v2/outage/shell/manifests/latest");
        var message = await AssertUnavailableAsync(manifest);
        Assert.Contains($"http://127.0.0.1:{blobPort}/{Azurite.AccountName}", message, StringComparison.Ordinal);
        Assert.InRange(manifestElapsed, TimeSpan.Zero, RequestBudget.Default + Slack);
        var (health, _) = await TimedGetAsync(client, "/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        output.WriteLine($"storage down, function app: /v2/ 200 in {v2Elapsed.TotalMilliseconds:0} ms; manifest 503 in {manifestElapsed.TotalMilliseconds:0} ms");

        await using var azurite = await Azurite.StartAtAsync(blobPort, queuePort, _folder.Combine("azurite"));
        await UntilHealthyAsync(client);

        // The same worker process claims the build and sends the job to the queue it creates now.
        var (building, _) = await TimedGetAsync(client, "/v2/outage/shell/manifests/latest");
        await ErrorAssert.HasErrorAsync(building, HttpStatusCode.TooManyRequests, "TOOMANYREQUESTS");
        var queue = new Azure.Storage.Queues.QueueClient(azurite.ConnectionString, Core.Azure.AzureQueueOptions.DefaultQueueName);
        Assert.Equal(1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    public void Dispose() => _folder.Dispose();

    private static Dictionary<string, string?> Settings(int blobPort, int queuePort) => new()
    {
        ["NIXERY_STORAGE_BACKEND"] = "azure",
        ["AZURE_STORAGE_CONNECTION_STRING"] = Azurite.ConnectionStringFor(blobPort, queuePort),
        ["NIXERY_WORKERS"] = "0",
        ["NIXERY_BUILD_WAIT"] = BuildWaitSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["NIXERY_RETRY_AFTER"] = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static HttpClient NoRedirects(RegistryInstance registry) =>
        new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = registry.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>Polls /healthz until 200; returns how long that took.</summary>
    private static async Task<TimeSpan> UntilHealthyAsync(HttpClient client)
    {
        var clock = Stopwatch.StartNew();
        await UntilAsync(async () => (await client.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK, "/healthz answers 200", PollCap);
        return clock.Elapsed;
    }

    /// <summary>The manifest by tag, then the layer through its redirect, hashing to its digest.</summary>
    private static async Task AssertWarmPullAsync(HttpClient client, StoredImage image)
    {
        var manifest = await client.GetAsync("/v2/warm/shell/manifests/latest");
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        var manifestBytes = await manifest.Content.ReadAsByteArrayAsync();
        Assert.Equal(image.Manifest.ToString(), "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifestBytes)));

        var blob = await client.GetAsync($"/v2/warm/shell/blobs/{image.Layer}");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, blob.StatusCode);
        using var direct = new HttpClient();
        var bytes = await direct.GetByteArrayAsync(blob.Headers.Location);
        Assert.Equal(image.Layer.ToString(), "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }
}
