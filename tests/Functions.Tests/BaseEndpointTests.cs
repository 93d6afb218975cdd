// GET /v2/ is what every client probes first; it must answer 200 with the API version.
using System.Net;

namespace Nixery.Functions.Tests;

public abstract class BaseEndpointTests(IRegistryUnderTest fixture)
{
    [Theory]
    [InlineData("GET", "/v2/")]
    [InlineData("GET", "/v2")]
    [InlineData("HEAD", "/v2/")]
    [InlineData("HEAD", "/v2")]
    public async Task BaseEndpointAnswers200WithTheApiVersion(string method, string path)
    {
        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["registry/2.0"], response.Headers.GetValues("Docker-Distribution-API-Version"));
    }

    [Fact]
    public async Task BaseEndpointBodyIsAnEmptyJsonObject()
    {
        using var response = await fixture.Client.GetAsync("/v2/");

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ErrorAnswersAlsoCarryTheApiVersion()
    {
        using var response = await fixture.Client.GetAsync("/v2/Shell/manifests/latest");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["registry/2.0"], response.Headers.GetValues("Docker-Distribution-API-Version"));
    }

    [Theory]
    [InlineData("/v2/hello")]
    [InlineData("/v2/hello/tags")]
    [InlineData("/v2/hello/tags/list/more")]
    [InlineData("/v2/tags/list")]
    public async Task UnknownPathUnderV2IsNameUnknownWithTheErrorBody(string path)
    {
        using var response = await fixture.Client.GetAsync(path);

        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        Assert.Contains("/v2/<name>/tags/list", message, StringComparison.Ordinal);
    }
}

[Collection(RegistryCollection.Name)]
public sealed class BaseEndpointTestsOnEmbeddedDefault(RegistryFixture fixture) : BaseEndpointTests(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class BaseEndpointTestsOnFunctionsHost(FunctionsHostFixture fixture) : BaseEndpointTests(fixture);
