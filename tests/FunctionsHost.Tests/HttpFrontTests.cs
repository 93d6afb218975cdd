// Requests through the emulator's HTTP front reach the sample's HTTP functions in the worker
// and come back as the function wrote them.
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Nixery.FunctionsHost.Tests;

public sealed class HttpFrontTests(SampleHostFixture fixture) : IClassFixture<SampleHostFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task GetAnswersTheFunctionsStatusHeadersAndBody()
    {
        using var response = await Client.GetAsync("files/a/b.txt?status=203");

        Assert.Equal(HttpStatusCode.NonAuthoritativeInformation, response.StatusCode);
        Assert.Equal("a/b.txt", response.Headers.GetValues("X-Path").Single());
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(13, response.Content.Headers.ContentLength);
        Assert.Equal("file:a/b.txt\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task HeadAnswersTheHeadersOfGetWithoutABody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "files/x");
        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("x", response.Headers.GetValues("X-Path").Single());
        Assert.Equal(7, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task PostBodyReachesTheFunctionAndComesBack()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "echo?q=1&r=two")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes("hello, worker")),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-sample");
        request.Headers.Add("X-Sample", "carried");
        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("application/x-sample", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("hello, worker", await response.Content.ReadAsStringAsync());
        Assert.Equal("POST", response.Headers.GetValues("X-Echo-Method").Single());
        Assert.Equal("?q=1&r=two", response.Headers.GetValues("X-Echo-Query").Single());
        Assert.Equal("carried", response.Headers.GetValues("X-Echo-Header").Single());
        // The worker sees the host the client called (X-Forwarded-Host), not its own address.
        Assert.Equal(fixture.Host.HostPort, response.Headers.GetValues("X-Echo-Host").Single());
    }

    [Fact]
    public async Task RedirectIsPassedThroughNotFollowed()
    {
        using var response = await Client.GetAsync("redirect/a/b");

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Equal("/files/a/b", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task BodyArrivesWhileTheFunctionIsStillWriting()
    {
        var release = Path.Combine(Path.GetTempPath(), $"release-{Guid.NewGuid():N}");
        using var bound = new CancellationTokenSource(Bound);
        using var response = await Client.GetAsync($"files/stream?release={Uri.EscapeDataString(release)}", HttpCompletionOption.ResponseHeadersRead, bound.Token);
        await using var body = await response.Content.ReadAsStreamAsync(bound.Token);
        using var reader = new StreamReader(body);

        // The function has written "first" and now waits for the release file: only a front
        // that streams lets this line through before the function returns.
        var first = await reader.ReadLineAsync(bound.Token);
        File.WriteAllText(release, "");
        var rest = await reader.ReadToEndAsync(bound.Token);
        File.Delete(release);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(("first", "second\n"), (first, rest));
    }

    [Fact]
    public async Task FunctionThatThrowsBeforeAnsweringIs500()
    {
        using var response = await Client.GetAsync("boom");
        var record = await CompletedAsync("boom");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.False(record.Succeeded);
        Assert.Contains("boom before any byte of the answer", record.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "nothing/here")]
    [InlineData("GET", "api/files/a")]
    [InlineData("DELETE", "files/a")]
    [InlineData("GET", "echo")]
    public async Task RequestMatchingNoRouteAndMethodIs404WithoutInvocation(string method, string path)
    {
        var before = fixture.Host.CountLines("invocation.started");
        using var response = await Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(before, fixture.Host.CountLines("invocation.started"));
        await fixture.Host.WaitForLogAsync($"http.unmatched method={method} path=/{path} status=404", Bound);
    }

    private async Task<InvocationRecord> CompletedAsync(string function)
    {
        var line = await fixture.Host.WaitForLogAsync($"invocation.completed function={function} ", Bound);
        var id = line.Split("invocationId=")[1].Split(' ')[0];
        return fixture.Host.Invocations.Single(i => i.InvocationId == id);
    }
}
