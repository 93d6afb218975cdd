// A manifest whose image is not built yet answers 429 + Retry-After once the build wait
// is over ("image is being built"), which podman, skopeo and containerd retry by themselves.
// No in-process worker here: the test is about the HTTP answer and the enqueued job.
using System.Net;
using Nixery.Core.Queue;
using Nixery.Core.Storage;
using Nixery.TestSupport;
using Microsoft.Extensions.DependencyInjection;

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

        var status = await instance.Store.GetStatusAsync(lease.Job.ImageKey, CancellationToken.None);
        Assert.Equal(BuildState.Queued, status?.State);
    }
}
