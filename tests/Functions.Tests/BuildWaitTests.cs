// A manifest whose image is not built yet answers 429 + Retry-After once the build wait
// is over ("image is being built"), which podman, skopeo and containerd retry by themselves.
// No in-process worker here: the test is about the HTTP answer and the enqueued job. The
// wait itself runs on a FakeTimeProvider, so "after NIXERY_BUILD_WAIT" is a step of the
// clock: the request's poll is a delay on that clock, which fires when the test moves it.
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Builds;
using Nixery.Core.Manifests;
using Nixery.Core.Queue;
using Nixery.Core.Storage;
using Nixery.Functions.Builds;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests;

public sealed class BuildWaitTests
{
    private static Dictionary<string, string?> Settings => new()
    {
        ["NIXERY_BUILD_WAIT"] = "0",
        ["NIXERY_RETRY_AFTER"] = "7",
        ["NIXERY_WORKERS"] = "0",
    };

    [Fact]
    public async Task ManifestOfAnImageBeingBuiltIs429WithRetryAfter()
    {
        using var folder = new TempDir("nixery-functions-429");
        await using var instance = await RegistryInstance.StartAsync(folder.Combine("storage"), Settings);

        using var head = await instance.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v2/bash/manifests/latest"));
        Assert.Equal((HttpStatusCode)429, head.StatusCode);
        Assert.Equal(["7"], head.Headers.GetValues("Retry-After"));
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        using var get = await instance.Client.GetAsync("/v2/bash/manifests/latest");
        var message = await ErrorAssert.HasErrorAsync(get, (HttpStatusCode)429, "TOOMANYREQUESTS");
        Assert.Contains("being built", message, StringComparison.Ordinal);
        Assert.Equal(["7"], get.Headers.GetValues("Retry-After"));
    }

    [Fact]
    public async Task FirstManifestMissEnqueuesOneBuildJobForTheRequestedPackages()
    {
        using var folder = new TempDir("nixery-functions-429");
        await using var instance = await RegistryInstance.StartAsync(folder.Combine("storage"), Settings);

        using var first = await instance.Client.GetAsync("/v2/bash/manifests/latest");
        using var second = await instance.Client.GetAsync("/v2/bash/manifests/v1");
        Assert.Equal((HttpStatusCode)429, first.StatusCode);
        Assert.Equal((HttpStatusCode)429, second.StatusCode);

        var queue = instance.Services.GetRequiredService<InProcessQueue>();
        var lease = await queue.ReceiveAsync(CancellationToken.None);
        Assert.Equal("bash", lease.Job.Image.Name);
        // As named: the worker adds the always-included packages from the set it fetches.
        Assert.Equal(["bash"], lease.Job.Image.Packages);
        Assert.Equal(BuildJob.CurrentVersion, lease.Job.Version);

        var status = await instance.Ledger.GetAsync(lease.Job.ImageKey, CancellationToken.None);
        Assert.Equal(BuildState.Queued, status?.State);
    }

    [Fact]
    public async Task ARequestWaitsForTheBuildUntilTheClockPassesTheBuildWaitThenAnswers429()
    {
        await using var waiting = await WaitingPull.StartAsync();
        waiting.Time.Advance(TimeSpan.FromSeconds(20));

        using var response = await waiting.Response;
        await ErrorAssert.HasErrorAsync(response, (HttpStatusCode)429, "TOOMANYREQUESTS");
        Assert.Equal(["7"], response.Headers.GetValues("Retry-After"));
    }

    [Fact]
    public async Task ABuildThatEndsBeforeTheClockPassesTheBuildWaitIsServed()
    {
        await using var waiting = await WaitingPull.StartAsync();
        waiting.Time.Advance(TimeSpan.FromSeconds(19));
        // What a worker does at the end of a build: the manifest, the image record, the signal.
        var (store, job) = (waiting.Instance.Store, waiting.Job);
        var manifest = Encoding.UTF8.GetBytes(RegistryFixture.ManifestJson);
        var digest = await store.PutBlobAsync(manifest, MediaTypes.DockerManifest, CancellationToken.None);
        await store.PutImageAsync(job.ImageKey, new ImageRecord(digest.ToString(), MediaTypes.DockerManifest, manifest.Length, job.Image.Packages), CancellationToken.None);
        waiting.Instance.Services.GetRequiredService<BuildEvents>().Settled(job.ImageKey);

        using var response = await waiting.Response;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([digest.ToString()], response.Headers.GetValues("Docker-Content-Digest"));
    }

    [Fact]
    public async Task AWaitingRequestEnqueuesTheBuildAgainOnceItsHeartbeatIsThreeBeatsOldAndOnlyOnce()
    {
        await using var waiting = await WaitingPull.StartAsync();
        var ledger = waiting.Instance.Ledger;
        var queue = waiting.Instance.Services.GetRequiredService<InProcessQueue>();
        // A worker takes the job, beats once, and is killed.
        await ledger.StartAsync(waiting.Job.ImageKey, waiting.Job.JobId, CancellationToken.None);

        // Past three beats the request's next poll finds the build dead and enqueues it again.
        waiting.Time.Advance(BuildLedger.HeartbeatStaleAfter + TimeSpan.FromSeconds(1));
        var again = (await queue.ReceiveAsync(CancellationToken.None)).Job;

        // The same build as a new job, enqueued now (the trace stays the request's).
        Assert.Equal(waiting.Job with { JobId = again.JobId, Enqueued = waiting.Time.GetUtcNow() }, again);
        Assert.NotEqual(waiting.Job.JobId, again.JobId);
        Assert.Equal(new BuildStatus(BuildState.Queued, waiting.Time.GetUtcNow(), Job: again.JobId), await ledger.GetAsync(again.ImageKey, CancellationToken.None));

        // Queued has no heartbeat: the rest of the wait claims nothing more (a claim would name
        // another job), and ends in 429.
        waiting.Time.Advance(TimeSpan.FromSeconds(4));
        using var response = await waiting.Response;
        await ErrorAssert.HasErrorAsync(response, (HttpStatusCode)429, "TOOMANYREQUESTS");
        Assert.Equal(again.JobId, (await ledger.GetAsync(again.ImageKey, CancellationToken.None))!.Job);
    }

    /// <summary>A pull of an image not built yet, with NIXERY_BUILD_WAIT 20 on a fake clock,
    /// whose build job has been enqueued: the request is in its wait.</summary>
    private sealed class WaitingPull : IAsyncDisposable
    {
        private readonly TempDir _folder = new("nixery-functions-wait");

        public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

        public RegistryInstance Instance { get; private set; } = null!;

        public Task<HttpResponseMessage> Response { get; private set; } = null!;

        public BuildJob Job { get; private set; } = null!;

        public static async Task<WaitingPull> StartAsync()
        {
            var pull = new WaitingPull();
            var settings = new Dictionary<string, string?>(Settings) { ["NIXERY_BUILD_WAIT"] = "20" };
            pull.Instance = await RegistryInstance.StartAsync(pull._folder.Combine("storage"), settings, services => services.AddSingleton<TimeProvider>(pull.Time));
            pull.Response = pull.Instance.Client.GetAsync("/v2/bash/manifests/latest");
            pull.Job = (await pull.Instance.Services.GetRequiredService<InProcessQueue>().ReceiveAsync(CancellationToken.None)).Job;
            return pull;
        }

        public async ValueTask DisposeAsync()
        {
            await Instance.DisposeAsync();
            _folder.Dispose();
        }
    }
}

/// <summary>What a request does when its wait is over and the build still runs, decided from the
/// progress the worker records (layers ready of the total, since when it packs).</summary>
public sealed class BuildEstimateTests
{
    private static readonly DateTimeOffset Since = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static BuildStatus Packing(int ready, int total) =>
        new(BuildState.Building, Since, LayersReady: ready, LayersTotal: total, PackingSince: Since);

    [Fact]
    public void TimeLeftIsTheTimePerReadyLayerTimesTheLayersLeft()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), BuildCoordinator.EstimateLeft(Packing(45, 60), Since.AddSeconds(6)));
    }

    [Fact]
    public void NoEstimateWithoutALayerReadyOrWithoutProgress()
    {
        Assert.Null(BuildCoordinator.EstimateLeft(Packing(0, 60), Since.AddSeconds(6)));
        Assert.Null(BuildCoordinator.EstimateLeft(new BuildStatus(BuildState.Building, Since), Since.AddSeconds(6)));
        Assert.Null(BuildCoordinator.EstimateLeft(new BuildStatus(BuildState.Queued, Since), Since.AddSeconds(6)));
        Assert.Null(BuildCoordinator.EstimateLeft(null, Since));
    }

    [Fact]
    public void ABuildDueWithinTheRetryAfterIsWaitedForOnce()
    {
        var nearlyDone = Packing(58, 60); // 20 s for 58 layers: 0.7 s left

        Assert.Equal(new WaitDecision(TimeSpan.FromSeconds(5), 5),
            BuildCoordinator.AtDeadline(nearlyDone, Since.AddSeconds(20), 5, extended: false));
        Assert.Equal(new WaitDecision(null, 1),
            BuildCoordinator.AtDeadline(nearlyDone, Since.AddSeconds(20), 5, extended: true));
    }

    [Fact]
    public void AFarBuildIsAnswered429WithRetryAfterAtMostTheSetting()
    {
        Assert.Equal(new WaitDecision(null, 5),
            BuildCoordinator.AtDeadline(Packing(10, 60), Since.AddSeconds(20), 5, extended: false));
        Assert.Equal(new WaitDecision(null, 5),
            BuildCoordinator.AtDeadline(new BuildStatus(BuildState.Queued, Since), Since.AddSeconds(20), 5, extended: false));
    }

    [Fact]
    public void AfterWaitingMoreTheRetryAfterIsTheEstimateLeft()
    {
        // 27 s for 40 of 60 layers: 13.5 s left, said as 5 (the setting); 57 of 60: 1.4 s → 2.
        Assert.Equal(5, BuildCoordinator.AtDeadline(Packing(40, 60), Since.AddSeconds(27), 5, extended: true).RetryAfterSeconds);
        Assert.Equal(2, BuildCoordinator.AtDeadline(Packing(57, 60), Since.AddSeconds(27), 5, extended: true).RetryAfterSeconds);
    }
}
