// Bad input is the client's fault: it must never be a 5xx, whose body clients do not show.
// Every odd path and header below answers 200/206 or a 4xx that carries the registry
// error JSON. Requests go over a raw socket so that nothing normalises them on the way.
namespace Nixery.Functions.Tests;

public abstract class NeverServerErrorTests(IRegistryUnderTest fixture)
{
    /// <summary>Whether the host in front of the app routes this path to a function at all; a
    /// path it does not route gets the host's own 404, which the app cannot shape.</summary>
    protected virtual bool HostRoutes(string path) => true;


    private const string Hex64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public static TheoryData<string> OddPaths => new()
    {
        "/v2/" + new string('a', 256) + "/manifests/latest",
        "/v2/" + string.Join('/', Enumerable.Repeat("abc", 500)) + "/manifests/latest",
        "/v2/" + new string('a', 2000) + "/blobs/sha256:" + Hex64,
        "/v2/h%C3%A9llo/manifests/latest",
        "/v2/%F0%9F%90%B3/manifests/latest",
        "/v2/%E2%80%AE/blobs/sha256:" + Hex64,
        "/v2/a%2Fb/manifests/latest",
        "/v2/a%2fb/blobs/sha256:" + Hex64,
        "/v2/a%5Cb/manifests/latest",
        "/v2/..%2F..%2Fetc/manifests/latest",
        "/v2/../v2/Shell/manifests/latest",
        "/v2/hello/blobs/sha256:..%2F..%2F..%2Fetc%2Fpasswd",
        "/v2/hello/blobs/..%2F..%2Fimages",
        "/v2/a//b/manifests/latest",
        "/v2//manifests/latest",
        "/v2///blobs/sha256:" + Hex64,
        "/v2/a/b//manifests/latest",
        "/v2/hello/manifests/with%20space",
        "/v2/hello/manifests/tab%09tag",
        "/v2/hello/manifests/new%0Aline",
        "/v2/hello/manifests/" + new string('t', 129),
        "/v2/hello/manifests/" + new string('t', 3000),
        "/v2/hello/manifests/sha256:" + Hex64.ToUpperInvariant(),
        "/v2/hello/blobs/SHA256:" + Hex64,
        "/v2/hello/blobs/sha256:" + Hex64 + "%0A",
        "/v2/hello/blobs/sha256%3A" + Hex64,
        "/v2/hello/manifests/:",
        "/v2/hello/manifests/%3A%3A%3A",
        "/v2/hello/manifests/",
        "/v2/hello/blobs/",
        "/v2/hello",
        "/v2/hello/",
        "/v2/manifests/latest",
        "/v2/blobs/sha256:" + Hex64,
        "/v2/_catalog",
        "/v2/hello/tags/list",
        "/v2/hello/blobs/uploads/",
        "/v2/hello/manifests/sha512:" + Hex64 + Hex64,
        "/v2/hello/manifests/sha256:" + Hex64 + "?digest=x&%ZZ",
        "/v2/hello%3Fx/manifests/latest",
        "/v2/hello%23x/manifests/latest",
    };

    [Theory]
    [MemberData(nameof(OddPaths))]
    public async Task OddGetPathIsNeverAServerError(string path)
    {
        var response = await RawHttp.SendAsync(fixture.BaseAddress, "GET", path);

        AssertClientAnswer(response, expectBody: true, HostRoutes(path));
    }

    [Theory]
    [MemberData(nameof(OddPaths))]
    public async Task OddHeadPathIsNeverAServerError(string path)
    {
        var response = await RawHttp.SendAsync(fixture.BaseAddress, "HEAD", path);

        AssertClientAnswer(response, expectBody: false, HostRoutes(path));
    }

    public static TheoryData<string> OddRanges => new()
    {
        "bytes=0-0",
        "bytes=9-",
        "bytes=-10",
        "bytes=-11",
        "bytes=10-",
        "bytes=-0",
        "bytes=--1",
        "bytes=-",
        "bytes=",
        "bytes",
        "bytes=0-18446744073709551616",
        "bytes=9223372036854775807-",
        "bytes=-9223372036854775807",
        "bytes=9223372036854775806-9223372036854775807",
        "bytes=0-1,2-3",
        "bytes=0-1,",
        "bytes=,",
        "BYTES=0-1",
        "bytes = 0-1",
        "bytes=1-2-3",
        "bytes=0-" + new string('9', 500),
        "bits=0-1",
        "=0-1",
        "bytes=\t0-1",
    };

    [Theory]
    [MemberData(nameof(OddRanges))]
    public async Task OddRangeHeaderIsNeverAServerError(string range)
    {
        var response = await RawHttp.SendAsync(
            fixture.BaseAddress,
            "GET",
            $"/v2/hello/blobs/{fixture.TenBytesDigest}",
            [("Range", range)]);

        AssertClientAnswer(response, expectBody: true);
    }

    [Theory]
    [MemberData(nameof(OddRanges))]
    public async Task OddRangeHeaderOnAManifestIsNeverAServerError(string range)
    {
        var response = await RawHttp.SendAsync(
            fixture.BaseAddress,
            "GET",
            $"/v2/hello/manifests/{fixture.ManifestDigest}",
            [("Range", range)]);

        AssertClientAnswer(response, expectBody: true);
    }

    [Theory]
    [InlineData("Accept", "*/*;q=nonsense")]
    [InlineData("Accept", "")]
    [InlineData("If-None-Match", "\"garbage")]
    [InlineData("If-Modified-Since", "yesterday")]
    [InlineData("Authorization", "Bearer x")]
    [InlineData("Content-Length", "0")]
    public async Task OddHeaderOnAManifestIsNeverAServerError(string name, string value)
    {
        var response = await RawHttp.SendAsync(
            fixture.BaseAddress,
            "GET",
            $"/v2/hello/manifests/{fixture.ManifestDigest}",
            [(name, value)]);

        AssertClientAnswer(response, expectBody: true);
    }

    /// <summary>A header value that is not ASCII (Arabic-Indic digits).</summary>
    protected async Task NonAsciiRangeHeaderIsNeverAServerErrorAsync()
    {
        var response = await RawHttp.SendAsync(fixture.BaseAddress, "GET", $"/v2/hello/blobs/{fixture.TenBytesDigest}", [("Range", "bytes=٣-٤")]);

        AssertClientAnswer(response, expectBody: true);
    }

    private static void AssertClientAnswer(RawResponse response, bool expectBody, bool routed = true)
    {
        Assert.True(response.Status is 200 or 206 or (>= 400 and < 500), $"status {response.Status}: {response.Body}");
        if (!routed)
        {
            Assert.Equal(404, response.Status);
            return;
        }

        if (response.Status >= 400)
        {
            Assert.Equal("application/json", response.Headers.GetValueOrDefault("Content-Type"));
            if (expectBody)
            {
                Assert.StartsWith("{\"errors\":[{\"code\":\"", response.Body, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal("", response.Body);
            }
        }
    }
}

[Collection(RegistryCollection.Name)]
public sealed class NeverServerErrorTestsOnEmbeddedDefault(RegistryFixture fixture) : NeverServerErrorTests(fixture)
{
    /// <summary>Only here: behind Azure Functions such a request stops at the host, which forwards
    /// with YARP over SocketsHttpHandler (DefaultHttpProxyService), and that refuses header
    /// values that are not ASCII, so the request never reaches the app.</summary>
    [Fact]
    public Task NonAsciiRangeHeaderIsNeverAServerError() => NonAsciiRangeHeaderIsNeverAServerErrorAsync();
}

[Collection(FunctionsHostCollection.Name)]
public sealed class NeverServerErrorTestsOnFunctionsHost(FunctionsHostFixture fixture) : NeverServerErrorTests(fixture)
{
    /// <summary>The host matches function routes with ASP.NET Core's template matcher
    /// (WebScriptHostHttpRoutesManager, WebJobsRouteBuilder), whose catch-all parameter cannot
    /// start at an empty segment: "/v2//manifests/latest" is the host's 404, never the app's
    /// ("/v2/a//b/…" reaches the app).</summary>
    protected override bool HostRoutes(string path) => !path.StartsWith("/v2//", StringComparison.Ordinal);
}
