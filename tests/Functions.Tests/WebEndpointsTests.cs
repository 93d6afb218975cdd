// The web page's functions on both hosts (the embedded default and the HTTP function app under
// the Functions host emulator): the event stream reaches the client as a stream through the
// host's HTTP forwarding, not once the function returns, and an image page answers. Statuses
// are written under keys of their own, so the shared fixture's other tests never see them.
using System.Net;
using System.Text;
using Nixery.Core.Builds;

namespace Nixery.Functions.Tests;

public abstract class WebEndpointsTests(IRegistryUnderTest fixture)
{
    [Fact]
    public async Task TheEventStreamSendsABuildWhileTheRequestStaysOpen()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var key = "web-endpoints-" + Guid.NewGuid().ToString("N");

        using var response = await fixture.Client.GetAsync("/events", HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct), Encoding.UTF8);
        Assert.Equal("retry: 2000", await reader.ReadLineAsync(ct));

        // Written after the stream opened: only a live stream can carry it.
        await fixture.Ledger.ProgressAsync(key, "job", new LayerProgress(2, 5, DateTimeOffset.UtcNow), "webendpoints/shell", ct);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal) && line.Contains($"\"key\":\"{key}\"", StringComparison.Ordinal))
            {
                Assert.Contains("\"image\":\"webendpoints/shell\",\"state\":\"building\",\"phase\":\"packing layers\",\"layersReady\":2,\"layersTotal\":5", line, StringComparison.Ordinal);
                return;
            }
        }

        Assert.Fail("the stream ended without the build's event");
    }

    [Fact]
    public async Task AnImagePageOfAnImageNotBuiltIsAnHtmlNotFound()
    {
        using var response = await fixture.Client.GetAsync("/images/shell/webendpoints-never-built");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("This image has not been built yet", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

[Collection(RegistryCollection.Name)]
public sealed class WebEndpointsTestsOnEmbeddedDefault(RegistryFixture fixture) : WebEndpointsTests(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class WebEndpointsTestsOnFunctionsHost(FunctionsHostFixture fixture) : WebEndpointsTests(fixture);
