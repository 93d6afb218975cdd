// Which methods the registry supports, as OPTIONS and a refused write say it: GET, HEAD and
// OPTIONS, never the methods it refuses. And a request target with "." or ".." segments is
// refused, not served as the path they resolve to.
using System.Net;

namespace Nixery.Functions.Tests;

public abstract class MethodsTests(IRegistryUnderTest fixture)
{
    [Theory]
    [InlineData("/v2/")]
    [InlineData("/v2")]
    [InlineData("/v2/shell/git/manifests/latest")]
    [InlineData("/v2/shell/git/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("/v2/shell/git/tags/list")]
    [InlineData("/v2/_catalog")]
    public async Task OptionsAnswersTheSupportedMethods(string path)
    {
        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Options, path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["GET", "HEAD", "OPTIONS"], response.Content.Headers.Allow);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("PUT", "/v2/hello/manifests/latest")]
    [InlineData("POST", "/v2/hello/blobs/uploads/")]
    [InlineData("DELETE", "/v2/hello/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public async Task ARefusedWriteListsTheSupportedMethodsOnly(string method, string path)
    {
        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = new ByteArrayContent([1]) });

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
        Assert.Equal(["GET", "HEAD", "OPTIONS"], response.Content.Headers.Allow);
    }

    /// <summary>Only where the app sees the request target as the client sent it.</summary>
    protected async Task DotSegmentsAreRefusedNotResolvedAsync(string target)
    {
        var response = await RawHttp.SendAsync(fixture.BaseAddress, "GET", target);

        Assert.Equal(400, response.Status);
        Assert.Contains("has a '.' or '..' segment", ErrorAssert.CodeAndMessage(response.Body, "NAME_INVALID"), StringComparison.Ordinal);
    }
}

[Collection(RegistryCollection.Name)]
public sealed class MethodsTestsOnEmbeddedDefault(RegistryFixture fixture) : MethodsTests(fixture)
{
    [Theory]
    [InlineData("/v2/shell/../git/manifests/latest")]
    [InlineData("/v2/shell/./git/manifests/latest")]
    [InlineData("/v2/shell/%2E%2E/git/manifests/latest")]
    [InlineData("/v2/shell/git/manifests/../tags/list")]
    [InlineData("/v2/../v2/git/tags/list")]
    [InlineData("/v2/git/blobs/./sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public Task DotSegmentsAreRefusedNotResolved(string target) => DotSegmentsAreRefusedNotResolvedAsync(target);
}

/// <summary>Behind the Functions host, the host's own Kestrel removes dot segments before it
/// matches the route and forwards the request (YARP's forwarder sends the resolved path), so
/// the app cannot tell `/v2/shell/../git` from `/v2/git` there; README, "Deploy to Azure".</summary>
[Collection(FunctionsHostCollection.Name)]
public sealed class MethodsTestsOnFunctionsHost(FunctionsHostFixture fixture) : MethodsTests(fixture);
