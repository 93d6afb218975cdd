// scripts/publish run once for the deploy tests, into a folder of their own: the Functions
// package (functionapp/ and its zip) and the worker image's build context (worker/).
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests.Deploy;

public sealed class PublishedPackages : IAsyncLifetime
{
    private readonly TempDir _out = new("nixery-publish");

    public string FunctionApp => _out.Combine("functionapp");

    public string FunctionAppZip => _out.Combine("functionapp.zip");

    public string Worker => _out.Combine("worker");

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
}

[CollectionDefinition(Name)]
public sealed class PublishCollection : ICollectionFixture<PublishedPackages>
{
    public const string Name = "scripts/publish output";
}
