// The app's host.json decides where functions are served and how long they may run: a copy of
// the sample's build with routePrefix "custom" and a functionTimeout of the test's choosing.
// The emulator routes with the prefix and the worker (which reads the same host.json) agrees;
// an invocation that outlives the timeout fails, the worker is told to cancel it, and its
// message is retried. The timeout applies to every function, HTTP ones too, so only the test
// about it sets it short: a first HTTP call on a loaded machine may well take 2 s.
using System.Net;
using System.Text.Json.Nodes;
using Nixery.TestSupport;

namespace Nixery.FunctionsHost.Tests;

public abstract class CustomHostJsonTests : IAsyncLifetime
{
    private readonly string _app = Path.Combine(Path.GetTempPath(), $"sample-hostjson-{Guid.NewGuid():N}");
    private Azurite _azurite = null!;
    private IReadOnlyDictionary<string, string> _settings = null!;
    private FunctionsHost _host = null!;

    /// <summary>host.json's functionTimeout for this test.</summary>
    protected abstract string FunctionTimeout { get; }

    protected FunctionsHost Host => _host;

    protected Azurite Azurite => _azurite;

    protected IReadOnlyDictionary<string, string> AppSettings => _settings;

    protected string App => _app;

    public async Task InitializeAsync()
    {
        foreach (var file in Directory.EnumerateFiles(SampleApp.Directory, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_app, Path.GetRelativePath(SampleApp.Directory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var hostJson = JsonNode.Parse(File.ReadAllText(Path.Combine(_app, "host.json")))!;
        hostJson["extensions"]!["http"]!["routePrefix"] = "custom";
        hostJson["functionTimeout"] = FunctionTimeout;
        File.WriteAllText(Path.Combine(_app, "host.json"), hostJson.ToJsonString());

        _azurite = await Azurite.StartAsync();
        _settings = SampleApp.Settings(_azurite, "hostjson");
        await SampleApp.CreateQueuesAsync(_azurite, _settings);
        _host = await FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = _app, AppSettings = _settings, Name = "hostjson" });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _azurite.DisposeAsync();
        Directory.Delete(_app, recursive: true);
    }
}

public sealed class RoutePrefixTests : CustomHostJsonTests
{
    protected override string FunctionTimeout => "00:05:00";

    [Fact]
    public async Task FunctionsAreServedUnderTheRoutePrefixOnly()
    {
        using var client = new HttpClient { BaseAddress = Host.BaseAddress };

        using var prefixed = await client.GetAsync("custom/files/a");
        using var bare = await client.GetAsync("files/a");
        using var defaultPrefix = await client.GetAsync("api/files/a");

        Assert.Equal(
            (HttpStatusCode.OK, "file:a\n", HttpStatusCode.NotFound, HttpStatusCode.NotFound),
            (prefixed.StatusCode, await prefixed.Content.ReadAsStringAsync(), bare.StatusCode, defaultPrefix.StatusCode));
    }
}

public sealed class FunctionTimeoutTests : CustomHostJsonTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    protected override string FunctionTimeout => "00:00:02";

    [Fact]
    public async Task InvocationOutlivingTheFunctionTimeoutFailsAndIsCancelled()
    {
        // The slow function waits for a file nobody creates.
        var queue = SampleApp.Queue(Azurite, AppSettings["SLOW_QUEUE"]);
        var sent = (await queue.SendMessageAsync(Path.Combine(App, "never"))).Value;

        await Host.WaitForLogAsync($"invocation.completed function=slow .* messageId={sent.MessageId} ", Bound);
        var first = Host.Invocations.First(i => i.QueueMessageId == sent.MessageId);
        await Host.WaitForLogAsync($"invocation.timeout function=slow invocationId={first.InvocationId} functionTimeout=00:00:02", Bound);

        Assert.Equal((false, 1L, "released"), (first.Succeeded, first.DequeueCount ?? 0, first.Completion));
        Assert.StartsWith("Timeout value of 00:00:02 exceeded by function 'Functions.slow'", first.Message, StringComparison.Ordinal);
        // The worker got InvocationCancel: the function's cancellation token fired and it ended.
        await Host.WaitForLogAsync($"worker Error .*invocationId={first.InvocationId}: .*exception=\"System.Threading.Tasks.TaskCanceledException", Bound);
    }
}
