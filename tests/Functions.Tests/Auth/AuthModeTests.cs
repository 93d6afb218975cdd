// The other modes on the embedded default: NIXERY_AUTH=basic (credentials on every request, no
// token endpoint), NIXERY_AUTH_ANONYMOUS=pull (tokens without credentials, wrong ones still
// refused), and the default, off (no token endpoint, nothing asked).
using System.Net;
using System.Text.Json;

namespace Nixery.Functions.Tests.Auth;

[Collection(BasicAuthCollection.Name)]
public sealed class BasicAuthTests(BasicAuthOnEmbeddedDefault fixture)
{
    [Fact]
    public async Task EveryRequestWithoutCredentialsIs401WithABasicChallenge()
    {
        foreach (var path in new[] { "/v2/", $"/v2/hello/blobs/{fixture.TenBytesDigest}", "/v2/shell/git/manifests/latest" })
        {
            using var response = await fixture.Client.GetAsync(path);

            var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
            Assert.StartsWith("authentication required", message, StringComparison.Ordinal);
            Assert.Equal("Basic realm=\"nixery\", charset=\"UTF-8\"", TestUsers.Challenge(response));
        }
    }

    [Fact]
    public async Task AUsersCredentialsPullAnyName()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/any/name/blobs/{fixture.TenBytesDigest}");
        request.Headers.Authorization = TestUsers.BasicOf(TestUsers.Bob, TestUsers.BobPassword);

        using var response = await fixture.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("0123456789", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AWrongPasswordIs401WithTheErrorBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/");
        request.Headers.Authorization = TestUsers.BasicOf(TestUsers.Bob, TestUsers.AlicePassword);

        using var response = await fixture.Client.SendAsync(request);

        Assert.Equal("wrong user name or password", await ErrorAssert.HasErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED"));
    }

    [Fact]
    public async Task ThereIsNoTokenEndpoint()
    {
        using var response = await fixture.Client.GetAsync("/token?scope=repository:hello:pull");

        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        Assert.Equal("this registry takes HTTP Basic credentials on each request (NIXERY_AUTH=basic) and has no token endpoint", message);
    }
}

[Collection(AnonymousPullCollection.Name)]
public sealed class AnonymousPullTests(AnonymousPullOnEmbeddedDefault fixture)
{
    [Fact]
    public async Task TheTokenEndpointGivesAPullTokenWithoutCredentials()
    {
        using var response = await fixture.Client.GetAsync("/token?service=nixery&scope=repository:hello:pull");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var document = JsonDocument.Parse(body);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/hello/blobs/{fixture.TenBytesDigest}");
        request.Headers.Authorization = new("Bearer", document.RootElement.GetProperty("token").GetString());

        using var pull = await fixture.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, pull.StatusCode);
    }

    [Fact]
    public async Task WrongCredentialsAreStillRefused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/token?service=nixery&scope=repository:hello:pull");
        request.Headers.Authorization = TestUsers.BasicOf(TestUsers.Alice, "wrong");

        using var response = await fixture.Client.SendAsync(request);

        Assert.Equal("wrong user name or password", await ErrorAssert.HasErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED"));
    }

    [Fact]
    public async Task PullsStillNeedAToken()
    {
        using var response = await fixture.Client.GetAsync($"/v2/hello/blobs/{fixture.TenBytesDigest}");

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }
}

[Collection(RegistryCollection.Name)]
public sealed class AuthOffTests(RegistryFixture fixture)
{
    [Fact]
    public async Task WithAuthenticationOffThereIsNoTokenEndpointAndPullsNeedNothing()
    {
        using var token = await fixture.Client.GetAsync("/token?scope=repository:hello:pull");
        using var pull = await fixture.Client.GetAsync($"/v2/hello/blobs/{fixture.TenBytesDigest}");

        Assert.Equal("authentication is off (NIXERY_AUTH=off): pull without credentials", await ErrorAssert.HasErrorAsync(token, HttpStatusCode.NotFound, "NAME_UNKNOWN"));
        Assert.Equal(HttpStatusCode.OK, pull.StatusCode);
        Assert.False(pull.Headers.Contains("WWW-Authenticate"));
    }
}
