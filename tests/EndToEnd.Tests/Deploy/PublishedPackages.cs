// scripts/publish run once for the deploy tests, into a folder of their own: the HTTP function
// app package (functionapp/ and its zip) and the worker image's build context (worker/).
using System.Text.Json;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests.Deploy;

public sealed class PublishedPackages : IAsyncLifetime
{
    private readonly TempDir _out = new("nixery-publish");

    public string FunctionApp => _out.Combine("functionapp");

    public string FunctionAppZip => _out.Combine("functionapp.zip");

    public string Worker => _out.Combine("worker");

    /// <summary>The worker function app inside the image's build context.</summary>
    public string WorkerApp => Path.Combine(Worker, "app");

    /// <summary>What scripts/publish printed.</summary>
    public string Log { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var result = await ProcessRunner.RunAsync(
            Path.Combine(RepoPaths.Root, "scripts", "publish"), ["--out", _out.Path], TimeSpan.FromMinutes(20), RepoPaths.Root);
        Log = result.EnsureSuccess("scripts/publish").Stdout;
    }

    public Task DisposeAsync()
    {
        _out.Dispose();
        return Task.CompletedTask;
    }

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
