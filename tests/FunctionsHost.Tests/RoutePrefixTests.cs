// host.json's extensions.http.routePrefix decides where the functions are served: the
// emulator routes with it, and the worker (which reads the same host.json) agrees.
using System.Net;
using System.Text.Json.Nodes;
using Nixery.TestSupport;

namespace Nixery.FunctionsHost.Tests;

public sealed class RoutePrefixTests : IAsyncLifetime
{
    private readonly string _app = Path.Combine(Path.GetTempPath(), $"sample-prefix-{Guid.NewGuid():N}");
    private Azurite _azurite = null!;
    private FunctionsHost _host = null!;

    public async Task InitializeAsync()
    {
        // A copy of the sample's build with routePrefix "custom".
        foreach (var file in Directory.EnumerateFiles(SampleApp.Directory, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_app, Path.GetRelativePath(SampleApp.Directory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var hostJson = JsonNode.Parse(File.ReadAllText(Path.Combine(_app, "host.json")))!;
        hostJson["extensions"]!["http"]!["routePrefix"] = "custom";
        File.WriteAllText(Path.Combine(_app, "host.json"), hostJson.ToJsonString());

        _azurite = await Azurite.StartAsync();
        var settings = SampleApp.Settings(_azurite, "prefix");
        await SampleApp.CreateQueuesAsync(_azurite, settings);
        _host = await FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = _app, AppSettings = settings, Name = "prefix" });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _azurite.DisposeAsync();
        Directory.Delete(_app, recursive: true);
    }

    [Fact]
    public async Task FunctionsAreServedUnderTheRoutePrefixOnly()
    {
        using var client = new HttpClient { BaseAddress = _host.BaseAddress };

        using var prefixed = await client.GetAsync("custom/files/a");
        using var bare = await client.GetAsync("files/a");
        using var defaultPrefix = await client.GetAsync("api/files/a");

        Assert.Equal(
            (HttpStatusCode.OK, "file:a\n", HttpStatusCode.NotFound, HttpStatusCode.NotFound),
            (prefixed.StatusCode, await prefixed.Content.ReadAsStringAsync(), bare.StatusCode, defaultPrefix.StatusCode));
    }
}
