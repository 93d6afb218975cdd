// The live build events (/events) and the escaping of everything the web pages print
// (issue 15, done-when 2). The registry runs on the real clock here: the event stream polls
// the ledger every second, and a test waits for the event it expects (bounded by a
// cancellation, never by a sleep). Hostile strings go where outside text reaches the pages:
// image names and reasons and logs in status records, package names and descriptions in the
// index, the search query, and the image name in an image page's URL.
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nixery.Core.Builds;
using Nixery.Core.Sources;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests;

public sealed class WebLiveAndEscapingTests : IAsyncLifetime
{
    private const string ScriptTag = "<script>alert(1)</script>";

    private const string ImgTag = "\"><img src=x onerror=alert(1)>";

    private readonly TempDir _folder = new("nixery-functions-web-live");

    private RegistryInstance _instance = null!;

    public async Task InitializeAsync() =>
        _instance = await RegistryInstance.StartAsync(
            _folder.Combine("storage"),
            new Dictionary<string, string?> { ["NIXERY_BUILD_WAIT"] = "0", ["NIXERY_WORKERS"] = "0" });

    public async Task DisposeAsync()
    {
        await _instance.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task TheEventStreamSendsABuildsProgressAsItAdvancesAndItsEnd()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var since = DateTimeOffset.UtcNow;
        await _instance.Ledger.ProgressAsync("k-live", "job-1", new LayerProgress(1, 4, since), "jq/shell", ct);

        using var response = await _instance.Client.GetAsync("/events", HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var events = new EventReader(await response.Content.ReadAsStreamAsync(ct));

        var first = await events.NextBuildAsync("k-live", _ => true, ct);
        Assert.Equal(("jq/shell", "building", "packing layers", 1, 4), Summary(first));

        await _instance.Ledger.ProgressAsync("k-live", "job-1", new LayerProgress(4, 4, since), "jq/shell", ct);
        var packed = await events.NextBuildAsync("k-live", b => b.GetProperty("layersReady").GetInt32() == 4, ct);
        Assert.Equal(("jq/shell", "building", "writing manifests", 4, 4), Summary(packed));

        await _instance.Ledger.SucceedAsync("k-live", "job-1", ct);
        var done = await events.NextBuildAsync("k-live", b => b.GetProperty("state").GetString() == "done", ct);
        Assert.Equal("ready to pull", done.GetProperty("phase").GetString());
    }

    [Fact]
    public async Task HostileStringsAreShownEscapedOnEveryPageAndInTheEventStream()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        await _instance.Ledger.FailAsync("k-failed", new BuildFailure(ScriptTag + ImgTag, "reason " + ScriptTag + ImgTag, [ScriptTag], ["log " + ScriptTag, ImgTag]), ct);
        await _instance.Ledger.ProgressAsync("k-building", "job", new LayerProgress(0, 2, DateTimeOffset.UtcNow), ImgTag + ScriptTag, ct);
        await _instance.Ledger.RetryAsync("k-retry", "job", "attempt failed: " + ScriptTag + ImgTag, ct);
        var source = await _instance.Services.GetRequiredService<SourceCatalog>().Default.ResolveAsync("latest", ct);
        await _instance.Store.PutPackageIndexAsync(
            new PackageIndex(source, [new IndexedPackage("alert" + ImgTag, ScriptTag, "does " + ScriptTag + ImgTag)], []),
            ct);

        var bodies = new Dictionary<string, string>
        {
            ["/"] = await _instance.Client.GetStringAsync("/", ct),
            ["/?q=alert"] = await _instance.Client.GetStringAsync("/?q=alert", ct),
            ["/?q=" + ScriptTag] = await _instance.Client.GetStringAsync("/?q=" + Uri.EscapeDataString(ScriptTag), ct),
            ["/?q=" + ImgTag] = await _instance.Client.GetStringAsync("/?q=" + Uri.EscapeDataString(ImgTag), ct),
            ["/failures"] = await _instance.Client.GetStringAsync("/failures", ct),
        };
        foreach (var target in new[] { "/images/" + Uri.EscapeDataString(ScriptTag), "/images/shell" + Uri.EscapeDataString(ImgTag), "/images/shell?tag=" + Uri.EscapeDataString(ScriptTag) })
        {
            using var refused = await _instance.Client.GetAsync(target, ct);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            bodies[target] = await refused.Content.ReadAsStringAsync(ct);
        }

        using (var response = await _instance.Client.GetAsync("/events", HttpCompletionOption.ResponseHeadersRead, ct))
        using (var events = new EventReader(await response.Content.ReadAsStreamAsync(ct)))
        {
            foreach (var key in new[] { "k-failed", "k-building", "k-retry" })
            {
                await events.NextBuildAsync(key, _ => true, ct);
            }

            bodies["/events"] = events.Text;
        }

        foreach (var (target, body) in bodies)
        {
            Assert.False(body.Contains(ScriptTag, StringComparison.OrdinalIgnoreCase), $"{target} has raw {ScriptTag}:\n{body}");
            Assert.False(body.Contains("<img", StringComparison.OrdinalIgnoreCase), $"{target} has a raw <img:\n{body}");
        }

        // And they are there, escaped, where the page shows them.
        const string Script = "&lt;script&gt;alert(1)&lt;/script&gt;";
        const string Img = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;";
        Assert.Contains($"<code>{Script}{Img}</code>", bodies["/"], StringComparison.Ordinal);
        Assert.Contains($"reason {Script}{Img}<details><summary>log</summary><pre>log {Script}\n{Img}</pre></details>", bodies["/"], StringComparison.Ordinal);
        Assert.Contains($"data-image=\"{Img}{Script}\"><span class=\"image\">{Img}{Script}</span>", bodies["/"], StringComparison.Ordinal);
        Assert.Contains($"<tr><td>alert{Img}</td><td>{Script}</td><td>does {Script}{Img}</td>", bodies["/?q=alert"], StringComparison.Ordinal);
        Assert.Contains($"value=\"{Script}\"", bodies["/?q=" + ScriptTag], StringComparison.Ordinal);
        Assert.Contains($"value=\"{Img}\"", bodies["/?q=" + ImgTag], StringComparison.Ordinal);
    }

    private static (string?, string?, string?, int, int) Summary(JsonElement build) => (
        build.GetProperty("image").GetString(),
        build.GetProperty("state").GetString(),
        build.GetProperty("phase").GetString(),
        build.GetProperty("layersReady").GetInt32(),
        build.GetProperty("layersTotal").GetInt32());

    /// <summary>Reads a text/event-stream as EventSource does (HTML, "Server-sent events":
    /// lines up to a blank line make an event; "event:" names it, "data:" carries it).</summary>
    private sealed class EventReader(Stream stream) : IDisposable
    {
        private readonly StreamReader _reader = new(stream, Encoding.UTF8);
        private readonly StringBuilder _text = new();

        /// <summary>Everything read so far.</summary>
        public string Text => _text.ToString();

        public async Task<JsonElement> NextBuildAsync(string key, Func<JsonElement, bool> wanted, CancellationToken ct)
        {
            string? name = null;
            var data = new StringBuilder();
            while (await _reader.ReadLineAsync(ct) is { } line)
            {
                _text.Append(line).Append('\n');
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Append(line["data: ".Length..]);
                }
                else if (line.Length == 0)
                {
                    if (name == "build")
                    {
                        var build = JsonDocument.Parse(data.ToString()).RootElement.Clone();
                        if (build.GetProperty("key").GetString() == key && wanted(build))
                        {
                            return build;
                        }
                    }

                    name = null;
                    data.Clear();
                }
            }

            throw new InvalidOperationException($"the event stream ended before the event of {key} came:\n{Text}");
        }

        public void Dispose() => _reader.Dispose();
    }
}
