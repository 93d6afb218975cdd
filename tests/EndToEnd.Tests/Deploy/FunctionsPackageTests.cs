// The HTTP function app package scripts/publish makes for Flex Consumption (issue 10): what the
// Functions host needs to load an isolated-worker app (host.json, the functions.metadata the
// SDK generated, worker.config.json, the host-side extensions), framework-dependent because the
// platform's dotnet-isolated 10.0 runtime provides .NET 10, and nothing of the build: no
// Nixery.Builder.dll, no Nix expressions. Whether the real host serves it is not checked here
// (README: Deploy to Azure); the emulator tests run it through the host protocol.
using System.IO.Compression;
using System.Text.Json;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests.Deploy;

[Collection(PublishCollection.Name)]
public sealed class FunctionsPackageTests(PublishedPackages published)
{
    [Fact]
    public void PackageHoldsTheHttpFunctionAppAsTheFunctionsHostLoadsIt()
    {
        var package = published.FunctionApp;

        AssertSameFile(Path.Combine(RepoPaths.Root, "src", "Functions", "host.json"), Path.Combine(package, "host.json"));
        Assert.Equal(
            ["build-events: httpTrigger", "collect-garbage: timerTrigger", "failures: httpTrigger", "health: httpTrigger", "image-page: httpTrigger", "landing: httpTrigger", "registry: httpTrigger", "registry-base: httpTrigger", "registry-writes: httpTrigger", "token: httpTrigger"],
            PublishedPackages.Functions(package).OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => $"{f.Name}: {f.Trigger}"));
        using var workerConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(package, "worker.config.json")));
        var description = workerConfig.RootElement.GetProperty("description");
        Assert.Equal("dotnet", description.GetProperty("defaultExecutablePath").GetString());
        Assert.Equal("Nixery.Functions.dll", description.GetProperty("defaultWorkerPath").GetString());
        Assert.True(File.Exists(Path.Combine(package, "Nixery.Functions.dll")), "the package has no Nixery.Functions.dll");
        Assert.True(File.Exists(Path.Combine(package, "extensions.json")), "the package has no extensions.json (the host-side binding extensions)");
        Assert.True(Directory.Exists(Path.Combine(package, ".azurefunctions")), "the package has no .azurefunctions/ (the host-side binding extensions)");
    }

    [Fact]
    public void PackageIsFrameworkDependentOnDotnet10AsTheFlexRuntimeProvides()
    {
        using var runtimeConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(published.FunctionApp, "Nixery.Functions.runtimeconfig.json")));
        var options = runtimeConfig.RootElement.GetProperty("runtimeOptions");

        // infra/modules/functionapp.bicep: functionAppConfig.runtime dotnet-isolated 10.0.
        Assert.Equal("net10.0", options.GetProperty("tfm").GetString());
        Assert.Contains(options.GetProperty("frameworks").EnumerateArray(), f => f.GetProperty("name").GetString() == "Microsoft.NETCore.App");
        Assert.False(File.Exists(Path.Combine(published.FunctionApp, "libcoreclr.so")), "the package is self-contained; the Flex runtime provides .NET 10");
    }

    [Fact]
    public void PackageCarriesNoBuildCodeAndNoNixExpressions()
    {
        var files = Directory.GetFiles(published.FunctionApp, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(published.FunctionApp, f)).ToList();

        Assert.DoesNotContain("Nixery.Builder.dll", files);
        Assert.DoesNotContain("Nixery.Worker.dll", files);
        Assert.DoesNotContain("Nixery.Embedded.dll", files);
        Assert.DoesNotContain(files, f => f.EndsWith(".nix", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(published.FunctionApp, "nix")), "the HTTP package has a nix/ folder");
    }

    [Fact]
    public void ZipHoldsThePackage()
    {
        using var zip = ZipFile.OpenRead(published.FunctionAppZip);
        var entries = zip.Entries.Where(e => !e.FullName.EndsWith('/')).Select(e => e.FullName).Order(StringComparer.Ordinal);
        var files = Directory.GetFiles(published.FunctionApp, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(published.FunctionApp, f)).Order(StringComparer.Ordinal);

        Assert.Equal(files, entries);
        Assert.Contains("host.json", entries);
        Assert.Contains("functions.metadata", entries);
    }

    private static void AssertSameFile(string expected, string actual)
    {
        Assert.True(File.Exists(actual), $"the package has no {actual}");
        Assert.True(File.ReadAllBytes(expected).AsSpan().SequenceEqual(File.ReadAllBytes(actual)), $"{actual} differs from {expected}");
    }
}
