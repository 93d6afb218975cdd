// scripts/publish's output for the deploy tests: the HTTP function app package (functionapp/
// and its zip) and the worker image's build context (worker/), published once per run.
using System.Text.Json;
using Nixery.EndToEnd.Tests.Functions;

namespace Nixery.EndToEnd.Tests.Deploy;

public sealed class PublishedPackages : IAsyncLifetime
{
    private PublishedApps? _apps;

    private PublishedApps Apps => _apps ?? throw new InvalidOperationException("not published yet");

    public string FunctionApp => Apps.FunctionApp;

    public string FunctionAppZip => Apps.FunctionAppZip;

    public string Worker => Apps.Worker;

    /// <summary>The worker function app inside the image's build context.</summary>
    public string WorkerApp => Apps.WorkerApp;

    /// <summary>What scripts/publish printed.</summary>
    public string Log => Apps.Log;

    /// <summary>One publish per test run, shared with the tests that run the apps (PublishedApps).</summary>
    public async Task InitializeAsync() => _apps = await PublishedApps.GetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The functions in a published app's functions.metadata, with their trigger binding.</summary>
    public static IReadOnlyList<(string Name, string Trigger, JsonElement Bindings)> Functions(string app)
    {
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(app, "functions.metadata")));
        return [.. metadata.RootElement.EnumerateArray().Select(function =>
        {
            var bindings = function.GetProperty("bindings").Clone();
            var trigger = bindings.EnumerateArray()
                .Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal))
                .GetProperty("type").GetString()!;
            return (function.GetProperty("name").GetString()!, trigger, bindings);
        })];
    }
}

[CollectionDefinition(Name)]
public sealed class PublishCollection : ICollectionFixture<PublishedPackages>
{
    public const string Name = "scripts/publish output";
}
