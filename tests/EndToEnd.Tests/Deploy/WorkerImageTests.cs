// The worker image cannot be built here (no container daemon, no network for its base image
// and Nix), so these check what a build would use: the Containerfile scripts/publish puts
// in the build context is deploy/worker.Containerfile, everything it COPYs is in that
// context, its ENTRYPOINT starts the published worker host, it runs as a non-root user, and
// its base image carries the .NET runtime and shared framework the worker was built for.
using System.Text.Json;
using System.Text.RegularExpressions;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests.Deploy;

[Collection(PublishCollection.Name)]
public sealed partial class WorkerImageTests(PublishedPackages published)
{
    private string Containerfile => Path.Combine(published.Worker, "Containerfile");

    private IReadOnlyList<(string Instruction, string Arguments)> Instructions =>
        [.. InstructionLine().Matches(File.ReadAllText(Containerfile).Replace("\\\n", " ", StringComparison.Ordinal))
            .Select(m => (m.Groups[1].Value.ToUpperInvariant(), m.Groups[2].Value.Trim()))];

    [Fact]
    public void BuildContextHoldsTheRepositorysContainerfile()
    {
        Assert.Equal(File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "worker.Containerfile")), File.ReadAllText(Containerfile));
    }

    [Fact]
    public void EverythingTheContainerfileCopiesIsInTheBuildContext()
    {
        var copies = Instructions.Where(i => i.Instruction == "COPY").ToList();

        Assert.NotEmpty(copies);
        foreach (var (_, arguments) in copies)
        {
            var parts = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(p => !p.StartsWith("--", StringComparison.Ordinal)).ToList();
            foreach (var source in parts[..^1])
            {
                var path = Path.Combine(published.Worker, source);
                Assert.True(File.Exists(path) || Directory.Exists(path), $"deploy/worker.Containerfile copies {source}, which scripts/publish does not put in {published.Worker}");
            }
        }
    }

    [Fact]
    public void EntryPointStartsThePublishedWorkerHostAsANonRootUser()
    {
        var entryPoint = JsonSerializer.Deserialize<string[]>(Instructions.Last(i => i.Instruction == "ENTRYPOINT").Arguments)!;
        var user = Instructions.Last(i => i.Instruction == "USER").Arguments;
        var copyToApp = Instructions.Single(i => i.Instruction == "COPY" && i.Arguments.EndsWith(" /app/", StringComparison.Ordinal));

        Assert.Equal(["dotnet", "/app/Nixery.Builder.dll"], entryPoint);
        Assert.EndsWith(" app/ /app/", copyToApp.Arguments, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(published.Worker, "app", "Nixery.Builder.dll")), "scripts/publish put no app/Nixery.Builder.dll in the worker's build context");
        Assert.Contains(("ENV", "NIXERY_NIX_PATH=/app/nix"), Instructions);
        Assert.True(File.Exists(Path.Combine(published.Worker, "app", "nix", "prepare-image.nix")), "the worker's build context has no app/nix/prepare-image.nix");
        Assert.NotEqual("root", user);
        Assert.NotEqual("0", user);
    }

    [Fact]
    public void BaseImageCarriesTheFrameworksTheWorkerWasBuiltFor()
    {
        using var runtimeConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(published.Worker, "app", "Nixery.Builder.runtimeconfig.json")));
        var frameworks = runtimeConfig.RootElement.GetProperty("runtimeOptions").GetProperty("frameworks").EnumerateArray()
            .Select(f => (Name: f.GetProperty("name").GetString()!, Version: f.GetProperty("version").GetString()!)).ToList();
        var from = Instructions.First(i => i.Instruction == "FROM").Arguments;

        // The aspnet image holds both Microsoft.NETCore.App and Microsoft.AspNetCore.App.
        Assert.Contains(frameworks, f => f.Name == "Microsoft.AspNetCore.App");
        var major = frameworks.Select(f => f.Version.Split('.')[0]).Distinct().Single();
        Assert.Equal($"mcr.microsoft.com/dotnet/aspnet:{major}.0", from);
    }

    [GeneratedRegex(@"(?m)^\s*([A-Za-z]+)\s+(.*)$")]
    private static partial Regex InstructionLine();
}
