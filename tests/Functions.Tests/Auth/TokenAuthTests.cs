// NIXERY_AUTH=token on both hosts: the challenges of distribution's token spec, the token
// endpoint, and the scope check (a token for one name pulls no other), with every refusal a
// 401 carrying the registry error body.
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Nixery.Functions.Tests.Auth;

public abstract class TokenAuthTests(IRegistryUnderTest fixture)
{
    private string Realm => new Uri(fixture.BaseAddress, "/token").ToString();

    [Fact]
    public async Task BaseEndpointWithoutCredentialsIs401WithABearerChallengeWithoutScope()
    {
        using var response = await fixture.Client.GetAsync("/v2/");

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal($"Bearer realm=\"{Realm}\",service=\"nixery\"", TestUsers.Challenge(response));
        Assert.Equal(["registry/2.0"], response.Headers.GetValues("Docker-Distribution-API-Version"));
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    public async Task ManifestWithoutCredentialsIs401WithTheChallengeForItsName(string method)
    {
        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/v2/shell/git/manifests/latest"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal($"Bearer realm=\"{Realm}\",service=\"nixery\",scope=\"repository:shell/git:pull\"", TestUsers.Challenge(response));
        if (method == "GET")
        {
            var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
            Assert.Contains("scope=repository:shell/git:pull", message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TokenEndpointIssuesASignedTokenForTheScopeAskedFor()
    {
        using var response = await GetTokenAsync(TestUsers.BasicOf(TestUsers.Alice, TestUsers.AlicePassword), "repository:shell/git:pull,push");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var token = body.RootElement.GetProperty("token").GetString()!;
        Assert.Equal(token, body.RootElement.GetProperty("access_token").GetString());
        Assert.Equal(300, body.RootElement.GetProperty("expires_in").GetInt32());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", body.RootElement.GetProperty("issued_at").GetString());
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        Assert.Equal("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[0])));
        using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(parts[1]));
        Assert.Equal("alice", payload.RootElement.GetProperty("sub").GetString());
        Assert.Equal("nixery", payload.RootElement.GetProperty("aud").GetString());
        Assert.Equal("nixery", payload.RootElement.GetProperty("iss").GetString());
        // Push was asked for too; this registry grants pull only.
        Assert.Equal("[{\"type\":\"repository\",\"name\":\"shell/git\",\"actions\":[\"pull\"]}]", payload.RootElement.GetProperty("access").GetRawText());
    }

    [Fact]
    public async Task BaseEndpointAnswers200WithATokenWithoutScope()
    {
        var token = await TokenAsync();

        using var response = await SendAsync("/v2/", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ATokenForOneNamePullsThatNameAndNoOther()
    {
        var token = await TokenAsync("repository:hello:pull");

        using var allowed = await SendAsync($"/v2/hello/blobs/{fixture.TenBytesDigest}", token);
        using var refused = await SendAsync($"/v2/other/blobs/{fixture.TenBytesDigest}", token);

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("0123456789", await allowed.Content.ReadAsStringAsync());
        var message = await ErrorAssert.HasErrorAsync(refused, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal("the token grants repository:hello:pull, not repository:other:pull: ask " + Realm + " for scope=repository:other:pull", message);
        Assert.Equal(
            $"Bearer realm=\"{Realm}\",service=\"nixery\",scope=\"repository:other:pull\",error=\"insufficient_scope\"",
            TestUsers.Challenge(refused));
    }

    [Fact]
    public async Task TheCatalogNeedsTheCatalogScope()
    {
        using var withoutScope = await SendAsync("/v2/_catalog", await TokenAsync("repository:hello:pull"));
        using var withScope = await SendAsync("/v2/_catalog", await TokenAsync("registry:catalog:*"));

        await ErrorAssert.HasErrorAsync(withoutScope, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal(HttpStatusCode.OK, withScope.StatusCode);
    }

    [Theory]
    [InlineData(TestUsers.Alice, "wrong")]
    [InlineData("nobody", TestUsers.AlicePassword)]
    [InlineData(TestUsers.Alice, TestUsers.BobPassword)]
    public async Task WrongCredentialsAtTheTokenEndpointAre401WithTheErrorBody(string user, string password)
    {
        using var response = await GetTokenAsync(TestUsers.BasicOf(user, password), "repository:hello:pull");

        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal("wrong user name or password", message);
        Assert.Equal("Basic realm=\"nixery\", charset=\"UTF-8\"", TestUsers.Challenge(response));
    }

    [Fact]
    public async Task NoCredentialsAtTheTokenEndpointIs401WithoutAnonymousPull()
    {
        using var response = await GetTokenAsync(null, "repository:hello:pull");

        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.StartsWith("authentication required", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Basic !!!not-base64")]
    [InlineData("Basic bm9jb2xvbg==")] // "nocolon"
    [InlineData("Basic /w==")] // one byte, not UTF-8
    [InlineData("Basic")]
    [InlineData("Bearer")]
    [InlineData("Bearer not.a.jwt")]
    [InlineData("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")] // alg none
    [InlineData("Digest username=\"alice\"")]
    public async Task MalformedAuthorizationHeadersAre401NeverServerErrors(string header)
    {
        foreach (var path in new[] { "/v2/", "/v2/hello/manifests/latest", "/token?scope=repository:hello:pull" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation("Authorization", header);
            using var response = await fixture.Client.SendAsync(request);

            await ErrorAssert.HasErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        }
    }

    [Fact]
    public async Task ATokenSignedWithAnotherKeyIsInvalid()
    {
        var token = await TokenAsync("repository:hello:pull");
        var parts = token.Split('.');
        var forged = $"{parts[0]}.{parts[1]}.{Base64UrlEncoder.Encode(new byte[32])}";

        using var response = await SendAsync($"/v2/hello/blobs/{fixture.TenBytesDigest}", forged);

        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.StartsWith("the token's signature is not this registry's", message, StringComparison.Ordinal);
        Assert.EndsWith(",error=\"invalid_token\"", TestUsers.Challenge(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMalformedScopeIs400()
    {
        using var response = await GetTokenAsync(TestUsers.BasicOf(TestUsers.Alice, TestUsers.AlicePassword), "hello");

        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.BadRequest, "NAME_INVALID");
        Assert.Equal("the scope 'hello' is not <type>:<name>:<actions>, e.g. repository:shell/git:pull", message);
    }

    [Fact]
    public async Task OptionsAndWritesNeedNoCredentials()
    {
        using var options = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/v2/hello/manifests/latest"));
        using var write = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/v2/hello/manifests/latest"));

        Assert.Equal(HttpStatusCode.OK, options.StatusCode);
        await ErrorAssert.HasErrorAsync(write, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
    }

    [Fact]
    public async Task TheWebPagesNeedAUser()
    {
        using var without = await fixture.Client.GetAsync("/failures");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/failures");
        request.Headers.Authorization = TestUsers.BasicOf(TestUsers.Bob, TestUsers.BobPassword);
        using var with = await fixture.Client.SendAsync(request);

        await ErrorAssert.HasErrorAsync(without, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal("Basic realm=\"nixery\", charset=\"UTF-8\"", TestUsers.Challenge(without));
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
    }

    private async Task<HttpResponseMessage> GetTokenAsync(AuthenticationHeaderValue? credentials, string scope)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/token?service=nixery&scope={Uri.EscapeDataString(scope)}");
        request.Headers.Authorization = credentials;
        return await fixture.Client.SendAsync(request);
    }

    private async Task<string> TokenAsync(string? scope = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/token?service=nixery" + (scope is null ? "" : "&scope=" + Uri.EscapeDataString(scope)));
        request.Headers.Authorization = TestUsers.BasicOf(TestUsers.Alice, TestUsers.AlicePassword);
        using var response = await fixture.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("token").GetString()!;
    }

    private async Task<HttpResponseMessage> SendAsync(string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await fixture.Client.SendAsync(request);
    }
}

[Collection(TokenAuthEmbeddedCollection.Name)]
public sealed class TokenAuthTestsOnEmbeddedDefault(TokenAuthOnEmbeddedDefault fixture) : TokenAuthTests(fixture);

[Collection(TokenAuthFunctionsHostCollection.Name)]
public sealed class TokenAuthTestsOnFunctionsHost(TokenAuthOnFunctionsHost fixture) : TokenAuthTests(fixture);
