// Issue 13, "fair and bounded building", on the HTTP side of the embedded default: names with
// packages the package index lacks are refused 404 with no status and no job; cold builds per
// client and minute, builds queued per client and failed logins at /token are answered 429 with
// Retry-After and a message naming the setting; too many packages in a name is 400. No worker
// (NIXERY_WORKERS 0) and no build wait: an admitted build answers 429 "being built" at once and
// its job stays in the in-process queue, so what each request caused is counted in storage.
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Nixery.Core.Builds;
using Nixery.Core.Sources;
using Nixery.Functions.Builds;
using Nixery.Functions.Tests.Auth;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests;

public sealed class LimitsTests
{
    private static Dictionary<string, string?> Settings(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["NIXERY_BUILD_WAIT"] = "0",
            ["NIXERY_RETRY_AFTER"] = "7",
            ["NIXERY_WORKERS"] = "0",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    public async Task OnceTheIndexExistsUnknownPackagesAre404NamingThemWithNoStatusAndNoJob()
    {
        using var folder = new TempDir("nixery-limits-index");
        await using var instance = await RegistryInstance.StartAsync(folder.Combine("storage"), Settings());
        await PutIndexAsync(instance, ["bashInteractive", "debian", "git", "python3.11"]);

        using var response = await instance.Client.GetAsync("/v2/git/nosuchpkg/zzz.nothing/manifests/latest");

        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        Assert.StartsWith("packages not found: nosuchpkg, zzz.nothing; ", message, StringComparison.Ordinal);
        Assert.Contains("page /", message, StringComparison.Ordinal);
        Assert.Equal(0, StatusFiles(instance));
    }

    [Fact]
    public async Task NamesTheIndexKnowsCaseInsensitivelyDottedOrAsMetaPackagesAreBuilt()
    {
        using var folder = new TempDir("nixery-limits-known");
        await using var instance = await RegistryInstance.StartAsync(folder.Combine("storage"), Settings());
        await PutIndexAsync(instance, ["bashInteractive", "debian", "git", "python3.11"]);

        using var response = await instance.Client.GetAsync("/v2/bashinteractive/debian.curl/nonroot/python3.11/shell/manifests/latest");

        var message = await ErrorAssert.HasErrorAsync(response, (HttpStatusCode)429, "TOOMANYREQUESTS");
        Assert.Contains("being built", message, StringComparison.Ordinal);
        Assert.Equal(1, StatusFiles(instance));
    }

    [Fact]
    public async Task WithoutAnIndexAnUnknownNameStillQueuesABuild()
    {
        using var folder = new TempDir("nixery-limits-noindex");
        await using var instance = await RegistryInstance.StartAsync(folder.Combine("storage"), Settings());

        using var response = await instance.Client.GetAsync("/v2/nosuchpkg/manifests/latest");

        await ErrorAssert.HasErrorAsync(response, (HttpStatusCode)429, "TOOMANYREQUESTS");
        Assert.Equal(1, StatusFiles(instance));
    }

    [Fact]
    public async Task ColdBuildsPastTheClientsRateAre429WithRetryAfterNamingTheSettingAndQueueNothing()
    {
        using var folder = new TempDir("nixery-limits-rate");
        await using var instance = await RegistryInstance.StartAsync(folder.Combine("storage"), Settings(("NIXERY_BUILD_RATE", "2")));

        using var first = await instance.Client.GetAsync("/v2/bash/manifests/latest");
        using var second = await instance.Client.GetAsync("/v2/git/manifests/latest");
        using var third = await instance.Client.GetAsync("/v2/curl/manifests/latest");
        // A build already queued is no new build: its pulls are not counted.
        using var again = await instance.Client.GetAsync("/v2/bash/manifests/latest");

        Assert.Contains("being built", await ErrorAssert.HasErrorAsync(first, (HttpStatusCode)429, "TOOMANYREQUESTS"), StringComparison.Ordinal);
        Assert.Contains("being built", await ErrorAssert.HasErrorAsync(second, (HttpStatusCode)429, "TOOMANYREQUESTS"), StringComparison.Ordinal);
        var refused = await ErrorAssert.HasErrorAsync(third, (HttpStatusCode)429, "TOOMANYREQUESTS");
        Assert.Contains("NIXERY_BUILD_RATE", refused, StringComparison.Ordinal);
        Assert.Contains("cold-build rate", refused, StringComparison.Ordinal);
        Assert.InRange(int.Parse(Assert.Single(third.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        Assert.Contains("being built", await ErrorAssert.HasErrorAsync(again, (HttpStatusCode)429, "TOOMANYREQUESTS"), StringComparison.Ordinal);
        Assert.Equal(2, StatusFiles(instance));
    }

    [Fact]
    public async Task AClientAtItsQueuedCapIsRefusedWhileAnotherClientIsServedAndASettledBuildFreesItsSlot()
    {
        using var folder = new TempDir("nixery-limits-queued");
        await using var instance = await RegistryInstance.StartAsync(
            folder.Combine("storage"),
            Settings(("NIXERY_MAX_QUEUED_PER_CLIENT", "2"), ("NIXERY_TRUST_FORWARDED_FOR", "on")));

        using var a = await PullAsync(instance, "bash", "192.0.2.1");
        using var b = await PullAsync(instance, "git", "192.0.2.1");
        using var c = await PullAsync(instance, "curl", "192.0.2.1");
        using var other = await PullAsync(instance, "curl", "192.0.2.2");

        var refused = await ErrorAssert.HasErrorAsync(c, (HttpStatusCode)429, "TOOMANYREQUESTS");
        Assert.Contains("NIXERY_MAX_QUEUED_PER_CLIENT", refused, StringComparison.Ordinal);
        Assert.Equal(["7"], c.Headers.GetValues("Retry-After"));
        Assert.Contains("being built", await ErrorAssert.HasErrorAsync(other, (HttpStatusCode)429, "TOOMANYREQUESTS"), StringComparison.Ordinal);
        var admission = instance.Services.GetRequiredService<BuildAdmission>();
        Assert.Equal(2, admission.Queued("address:192.0.2.1"));

        // The worker fails bash's build: the first client's next cold build is admitted.
        var queue = instance.Services.GetRequiredService<Nixery.Core.Queue.InProcessQueue>();
        var job = (await queue.ReceiveAsync(CancellationToken.None)).Job;
        Assert.Equal("bash", job.Image.Name);
        await instance.Ledger.FailAsync(job.ImageKey, job.JobId, new BuildFailure("bash", "test"), CancellationToken.None);
        using var d = await PullAsync(instance, "perl", "192.0.2.1");

        Assert.Contains("being built", await ErrorAssert.HasErrorAsync(d, (HttpStatusCode)429, "TOOMANYREQUESTS"), StringComparison.Ordinal);
        Assert.Equal(2, admission.Queued("address:192.0.2.1"));
    }

    [Fact]
    public async Task ANameWithMorePackagesThanTheLimitIs400NamingTheSetting()
    {
        using var folder = new TempDir("nixery-limits-packages");
        await using var instance = await RegistryInstance.StartAsync(folder.Combine("storage"), Settings(("NIXERY_MAX_PACKAGES", "2")));

        using var response = await instance.Client.GetAsync("/v2/bash/curl/git/manifests/latest");
        using var two = await instance.Client.GetAsync("/v2/bash/git/manifests/latest");

        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.BadRequest, "NAME_INVALID");
        Assert.Contains("3 packages", message, StringComparison.Ordinal);
        Assert.Contains("NIXERY_MAX_PACKAGES", message, StringComparison.Ordinal);
        await ErrorAssert.HasErrorAsync(two, (HttpStatusCode)429, "TOOMANYREQUESTS");
        Assert.Equal(1, StatusFiles(instance));
    }

    [Fact]
    public async Task FailedLoginsPastTheRateAre429WithRetryAfterEvenWithTheRightPassword()
    {
        using var folder = new TempDir("nixery-limits-token");
        await using var instance = await RegistryInstance.StartAsync(folder.Combine("storage"), Settings(
            ("NIXERY_AUTH", "token"), ("NIXERY_AUTH_USERS", TestUsers.UsersSetting), ("NIXERY_AUTH_FAILURE_RATE", "2")));

        async Task<HttpResponseMessage> LoginAsync(string password)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/token?service=nixery");
            request.Headers.Authorization = TestUsers.BasicOf(TestUsers.Alice, password);
            return await instance.Client.SendAsync(request);
        }

        using var right = await LoginAsync(TestUsers.AlicePassword);
        using var wrong1 = await LoginAsync("guess1");
        using var wrong2 = await LoginAsync("guess2");
        using var limited = await LoginAsync(TestUsers.AlicePassword);

        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        await ErrorAssert.HasErrorAsync(wrong1, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        await ErrorAssert.HasErrorAsync(wrong2, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        var message = await ErrorAssert.HasErrorAsync(limited, (HttpStatusCode)429, "TOOMANYREQUESTS");
        Assert.Contains("NIXERY_AUTH_FAILURE_RATE", message, StringComparison.Ordinal);
        Assert.InRange(int.Parse(Assert.Single(limited.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture), 1, 60);
    }

    [Theory]
    [InlineData("NIXERY_BUILD_RATE", "-1")]
    [InlineData("NIXERY_MAX_QUEUED_PER_CLIENT", "many")]
    [InlineData("NIXERY_MAX_PACKAGES", "0")]
    [InlineData("NIXERY_AUTH_FAILURE_RATE", "1.5")]
    [InlineData("NIXERY_TRUST_FORWARDED_FOR", "yes")]
    public void AWrongLimitSettingIsAStartUpErrorNamingIt(string key, string value)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection([new(key, value)]).Build();

        var error = Assert.Single(Core.Options.Settings.Check(config, [typeof(LimitOptions)]));

        Assert.StartsWith($"{key} is '{value}'; it must be ", error, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> PullAsync(RegistryInstance instance, string name, string client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{name}/manifests/latest");
        request.Headers.Add("X-Forwarded-For", $"203.0.113.9, {client}");
        return await instance.Client.SendAsync(request);
    }

    /// <summary>Writes the default source's index at its current revision, as a worker would.</summary>
    private static async Task PutIndexAsync(RegistryInstance instance, IReadOnlyList<string> packages)
    {
        var (_, resolved) = await instance.Services.GetRequiredService<SourceCatalog>().ResolveAsync("bash", "latest", CancellationToken.None);
        var index = new PackageIndex(resolved, [.. packages.Select(p => new IndexedPackage(p, null, null))], ["arm64", "nonroot", "shell"]);
        await instance.Store.PutPackageIndexAsync(index, CancellationToken.None);
    }

    private static int StatusFiles(RegistryInstance instance) =>
        Directory.Exists(Path.Combine(instance.StoragePath, "status")) ? Directory.GetFiles(Path.Combine(instance.StoragePath, "status"), "*.json", SearchOption.AllDirectories).Length : 0;
}
