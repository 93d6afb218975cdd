// The recent failures, as JSON (/failures) and on the landing page (/): failed builds within
// NIXERY_FAILURE_TTL, newest first, at most 50, each with its image, reason, missing
// packages, log tail and time. Statuses are written straight into storage, as a worker
// would; the clock is a FakeTimeProvider, so "after the TTL" is a step of the clock, not a wait.
using System.Net;
using System.Text;
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

public sealed class FailuresTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(300);

    private readonly TempDir _folder = new("nixery-functions-failures");

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    private RegistryInstance _instance = null!;

    public async Task InitializeAsync() =>
        _instance = await RegistryInstance.StartAsync(
            _folder.Combine("storage"),
            new Dictionary<string, string?> { ["NIXERY_BUILD_WAIT"] = "0", ["NIXERY_WORKERS"] = "0", ["NIXERY_FAILURE_TTL"] = "300" },
            services => services.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync()
    {
        await _instance.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task AFailureIsListedWithItsImageReasonMissingPackagesLogAndTime()
    {
        var at = _time.GetUtcNow();
        await SetStatusAsync("k1", new BuildStatus(BuildState.Failed, at, "packages not found: gti", ["gti"], null, "gti/shell"), Ct);
        await SetStatusAsync("k2", new BuildStatus(BuildState.Failed, at.AddSeconds(-1), "builder for '/nix/store/x-a.drv' failed", null, ["one", "two"], "a"), Ct);

        using var response = await _instance.Client.GetAsync("/failures");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var expected = JsonSerializer.Serialize(new
        {
            failures = new object[]
            {
                new { image = "gti/shell", reason = "packages not found: gti", missing = (string[])["gti"], at },
                new { image = "a", reason = "builder for '/nix/store/x-a.drv' failed", log = (string[])["one", "two"], at = at.AddSeconds(-1) },
            },
        });
        Assert.Equal(Normalised(expected), Normalised(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task TheLandingPageListsAFailureWithItsReasonHtmlEncoded()
    {
        await SetStatusAsync("k", new BuildStatus(BuildState.Failed, _time.GetUtcNow(), "<script>alert('x')</script> & more", null, ["<b>log</b>"], "evil<i>"), Ct);

        using var response = await _instance.Client.GetAsync("/");
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"docker pull {_instance.HostPort}/shell/git/htop", page, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more", page, StringComparison.Ordinal);
        Assert.Contains("<code>evil&lt;i&gt;</code>", page, StringComparison.Ordinal);
        Assert.Contains("<pre>&lt;b&gt;log&lt;/b&gt;</pre>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<i>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFailureIsNoLongerListedOnceTheTtlHasPassed()
    {
        await SetStatusAsync("k", new BuildStatus(BuildState.Failed, _time.GetUtcNow(), "it broke", null, null, "broken"), Ct);
        Assert.Equal(["broken"], await ListedImagesAsync());
        Assert.Contains("it broke", await _instance.Client.GetStringAsync("/"), StringComparison.Ordinal);

        _time.Advance(Ttl);
        Assert.Equal(["broken"], await ListedImagesAsync());

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(await ListedImagesAsync());
        var page = await _instance.Client.GetStringAsync("/");
        Assert.DoesNotContain("it broke", page, StringComparison.Ordinal);
        Assert.Contains("<p>None.</p>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnlyFailedReadableStatusesAreListedAndOnesWithoutAnImageStillAre()
    {
        var now = _time.GetUtcNow();
        await SetStatusAsync("queued", new BuildStatus(BuildState.Queued, now), Ct);
        await SetStatusAsync("building", new BuildStatus(BuildState.Building, now, "attempt 1 failed: IOException: disk"), Ct);
        await SetStatusAsync("done", new BuildStatus(BuildState.Done, now), Ct);
        await SetStatusAsync("old-ttl", new BuildStatus(BuildState.Failed, now - Ttl - TimeSpan.FromSeconds(1), "too old", null, null, "old"), Ct);
        await WriteAsync("status/garbage.json", "{not json");
        await WriteAsync("status/wrong-shape.json", "[1,2,3]");
        await WriteAsync("status/not-a-status.txt", "hello");
        // A record from before failed statuses named their image.
        var updated = JsonSerializer.Serialize(now.AddSeconds(-5));
        await WriteAsync("status/before-image.json", $"{{\"state\":\"Failed\",\"updated\":{updated},\"reason\":\"from an older worker\"}}");
        await SetStatusAsync("failed", new BuildStatus(BuildState.Failed, now, "broke", null, null, "x"), Ct);

        using var document = JsonDocument.Parse(await _instance.Client.GetStringAsync("/failures"));
        var failures = document.RootElement.GetProperty("failures").EnumerateArray().ToList();

        Assert.Equal(2, failures.Count);
        Assert.Equal("x", failures[0].GetProperty("image").GetString());
        Assert.Equal(JsonValueKind.Null, failures[1].GetProperty("image").ValueKind);
        Assert.Equal("from an older worker", failures[1].GetProperty("reason").GetString());
        Assert.Contains("(not recorded)", await _instance.Client.GetStringAsync("/"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AtMostFiftyFailuresAreListedNewestFirst()
    {
        var now = _time.GetUtcNow();
        for (var i = 0; i < 60; i++)
        {
            await SetStatusAsync($"k{i:00}", new BuildStatus(BuildState.Failed, now.AddSeconds(-i), "broke", null, null, $"image{i:00}"), Ct);
        }

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"image{i:00}"), await ListedImagesAsync());
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/failures")]
    public async Task HeadAnswersAsGetDoesWithoutABody(string path)
    {
        await SetStatusAsync("k", new BuildStatus(BuildState.Failed, _time.GetUtcNow(), "broke", null, ["a log line"], "x"), Ct);

        using var get = await _instance.Client.GetAsync(path);
        using var head = await _instance.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Equal((await get.Content.ReadAsByteArrayAsync()).Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task APulledImageThatFailedNamesItsReasonAndTheLastLinesOfItsLog()
    {
        var (selection, source) = await _instance.Services.GetRequiredService<SourceCatalog>().ResolveAsync("hello", "latest", Ct);
        var key = ImageKeys.For(ImageRequest.FromName(selection.Packages), source);
        const string Drv = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-hello.drv";
        await SetStatusAsync(key, new BuildStatus(
            BuildState.Failed,
            _time.GetUtcNow(),
            $"builder for '{Drv}' failed with exit code 2 while building hello",
            null,
            ["this derivation will be built:", $"  {Drv}", $"building '{Drv}'...", "checking for cc... no", "", "configure: error: no C compiler", $"error: builder for '{Drv}' failed with exit code 2"],
            "hello"), Ct);

        using var response = await _instance.Client.GetAsync("/v2/hello/manifests/latest");

        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        Assert.Equal(
            $"image hello could not be built: builder for '{Drv}' failed with exit code 2 while building hello; "
            + $"last lines of the log: this derivation will be built: | building '{Drv}'... | checking for cc... no | configure: error: no C compiler",
            message);
    }

    private async Task<List<string?>> ListedImagesAsync()
    {
        using var document = JsonDocument.Parse(await _instance.Client.GetStringAsync("/failures"));
        return [.. document.RootElement.GetProperty("failures").EnumerateArray().Select(f => f.GetProperty("image").GetString())];
    }

    private Task WriteAsync(string path, string text) =>
        Backend.WriteAsync(path, new MemoryStream(Encoding.UTF8.GetBytes(text)), "application/json", Ct);

    /// <summary>A status record as a worker writes it (BuildLedger), at whatever time the test names.</summary>
    private Task SetStatusAsync(string imageKey, BuildStatus status, CancellationToken ct) =>
        Backend.WriteJsonAsync(StorageLayout.Status(imageKey), status, CoreJson.Default.BuildStatus, ct);

    private IStorageBackend Backend => _instance.Services.GetRequiredService<IStorageBackend>();

    /// <summary>The JSON as the serialiser writes it, so that only content is compared.</summary>
    private static string Normalised(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement);
}

/// <summary>Requests a browser or a scanner may send to the pages outside /v2/: never a 5xx.</summary>
public abstract class FailuresRobustnessTests(IRegistryUnderTest fixture)
{
    public static TheoryData<string, string> OddRequests()
    {
        var data = new TheoryData<string, string>();
        foreach (var path in new[] { "/", "/failures", "/images/shell/git" })
        {
            foreach (var method in new[] { "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "FOO" })
            {
                data.Add(method, path);
            }

            foreach (var query in new[] { "?", "?%ZZ", "?a=%00", "?limit=-1", "?limit=99999999999999999999", "?<script>=1", "?" + new string('q', 4000), "?a=1&a=2&&=", "#frag" })
            {
                data.Add("GET", path + query);
                data.Add("HEAD", path + query);
            }
        }

        data.Add("GET", "/failures/");
        data.Add("GET", "/failures/x");
        data.Add("GET", "//failures");
        data.Add("GET", "/FAILURES");
        return data;
    }

    [Theory]
    [MemberData(nameof(OddRequests))]
    public async Task OddMethodsAndQueryStringsAreNeverServerErrors(string method, string target)
    {
        await fixture.Ledger.FailAsync("failures-odd-requests", new BuildFailure("x", "<broke>", null, ["&"]), CancellationToken.None);

        var response = await RawHttp.SendAsync(fixture.BaseAddress, method, target);

        Assert.True(response.Status is >= 200 and < 500, $"{method} {target}: {response.Status} {response.Body}");
    }
}

[Collection(RegistryCollection.Name)]
public sealed class FailuresRobustnessTestsOnEmbeddedDefault(RegistryFixture fixture) : FailuresRobustnessTests(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FailuresRobustnessTestsOnFunctionsHost(FunctionsHostFixture fixture) : FailuresRobustnessTests(fixture);
