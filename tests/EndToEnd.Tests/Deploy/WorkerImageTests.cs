// The worker image cannot be built here (no container daemon, no network for its base image
// and Nix), so these check what a build would use (issue 10, "done when" 4): the Containerfile
// scripts/publish puts in the build context is deploy/worker.Containerfile, everything it COPYs
// is in that context, the context holds the worker function app as the Functions host loads it,
// the image runs the Functions host of the .NET isolated base image for the worker's .NET (not
// a `dotnet` command of its own), and Nix is pinned by version and checksum to one new enough
// for the channels. A real `docker build` is listed under "not checked here" in the README.
using System.Text.Json;
using System.Text.RegularExpressions;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests.Deploy;

[Collection(PublishCollection.Name)]
public sealed partial class WorkerImageTests(PublishedPackages published)
{
    /// <summary>The least Nix the worker's channels evaluate with: nixpkgs' lib/minver.nix asks
    /// 2.18.0 since NixOS/nixpkgs#428076 (2025), after "2.3.17" (NixOS/nixpkgs#354586), which is
    /// more than nixos-24.05, NIXERY_CHANNEL's default, asks.</summary>
    private static readonly Version LeastNix = new(2, 18, 0);

    private string Containerfile => Path.Combine(published.Worker, "Containerfile");

    private IReadOnlyList<(string Instruction, string Arguments)> Instructions =>
        [.. InstructionLine().Matches(File.ReadAllText(Containerfile).Replace("\\\n", " ", StringComparison.Ordinal))
            .Select(m => (m.Groups[1].Value.ToUpperInvariant(), m.Groups[2].Value.Trim()))];

    /// <summary>Every ENV the file sets, later ones winning.</summary>
    private Dictionary<string, string> Env =>
        Instructions.Where(i => i.Instruction == "ENV")
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(pair => pair.Split('=', 2))
            .GroupBy(pair => pair[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);

    /// <summary>Every ARG with a default.</summary>
    private Dictionary<string, string> Args =>
        Instructions.Where(i => i.Instruction == "ARG" && i.Arguments.Contains('=', StringComparison.Ordinal))
            .Select(i => i.Arguments.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);

    [Fact]
    public void BuildContextHoldsTheRepositorysContainerfile()
    {
        Assert.Equal(File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "worker.Containerfile")), File.ReadAllText(Containerfile));
    }

    [Fact]
    public void EverythingTheContainerfileCopiesIsInTheBuildContext()
    {
        var copies = Instructions.Where(i => i.Instruction is "COPY" or "ADD").ToList();

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
    public void ImageInstallsTheLibdeflateTheLayerFormatNames()
    {
        var containerfile = File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "worker.Containerfile"));
        var version = System.Text.RegularExpressions.Regex.Match(Nixery.Core.Names.ImageKeys.LayerFormat, @"libdeflate-([0-9.]+)").Groups[1].Value;

        Assert.Matches($@"ARG LIBDEFLATE_DEB=libdeflate0_{System.Text.RegularExpressions.Regex.Escape(version)}-[0-9]+_amd64\.deb", containerfile);
        Assert.Matches(@"ARG LIBDEFLATE_SHA256=[0-9a-f]{64}\n", containerfile);
        Assert.Contains("sha256sum -c", containerfile, StringComparison.Ordinal);
        Assert.Contains("dpkg -i", containerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildContextHoldsTheWorkerFunctionAppWithItsNixExpressions()
    {
        var app = published.WorkerApp;
        var build = PublishedPackages.Functions(app).Single();
        var trigger = build.Bindings.EnumerateArray().Single(b => b.GetProperty("type").GetString() == "queueTrigger");
        using var workerConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(app, "worker.config.json")));

        Assert.Equal(("build", "queueTrigger"), (build.Name, build.Trigger));
        Assert.Equal("%NIXERY_QUEUE_NAME%", trigger.GetProperty("queueName").GetString());
        Assert.True(
            File.ReadAllBytes(Path.Combine(RepoPaths.Root, "src", "Worker", "host.json")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(app, "host.json"))),
            "the worker's host.json in the build context differs from src/Worker/host.json");
        Assert.Equal("Nixery.Worker.dll", workerConfig.RootElement.GetProperty("description").GetProperty("defaultWorkerPath").GetString());
        foreach (var file in new[] { "Nixery.Worker.dll", "Nixery.Builder.dll", "extensions.json", Path.Combine("nix", "prepare-image.nix") })
        {
            Assert.True(File.Exists(Path.Combine(app, file)), $"the worker's build context has no app/{file}");
        }
    }

    [Fact]
    public void ImageRunsTheFunctionsHostOfTheIsolatedBaseImageForTheWorkersDotnet()
    {
        using var runtimeConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(published.WorkerApp, "Nixery.Worker.runtimeconfig.json")));
        var major = runtimeConfig.RootElement.GetProperty("runtimeOptions").GetProperty("tfm").GetString()!.Replace("net", "", StringComparison.Ordinal).Split('.')[0];
        var env = Env;

        Assert.Equal($"mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated{major}.0", Instructions.Single(i => i.Instruction == "FROM").Arguments);
        // The base image's start script runs the host; the host starts `dotnet Nixery.Worker.dll`.
        Assert.DoesNotContain(Instructions, i => i.Instruction is "ENTRYPOINT" or "CMD");
        Assert.Contains(Instructions, i => i.Instruction == "COPY" && i.Arguments == "app/ /home/site/wwwroot/");
        Assert.Equal("/home/site/wwwroot", env["AzureWebJobsScriptRoot"]);
        Assert.Equal("true", env["AzureFunctionsJobHost__Logging__Console__IsEnabled"]);
        Assert.Equal("dotnet-isolated", env["FUNCTIONS_WORKER_RUNTIME"]);
        Assert.Equal("/home/site/wwwroot/nix", env["NIXERY_NIX_PATH"]);
    }

    [Fact]
    public void NixIsPinnedByVersionAndChecksumForTheUserTheHostRunsAs()
    {
        var args = Args;
        var run = string.Join("\n", Instructions.Where(i => i.Instruction == "RUN").Select(i => i.Arguments));
        var user = Instructions.Last(i => i.Instruction == "USER").Arguments;

        Assert.True(Version.TryParse(args.GetValueOrDefault("NIX_VERSION"), out var nix), $"deploy/worker.Containerfile: ARG NIX_VERSION is '{args.GetValueOrDefault("NIX_VERSION")}', not a version");
        Assert.True(nix >= LeastNix, $"deploy/worker.Containerfile pins Nix {nix}; the channels need at least {LeastNix}");
        Assert.Matches("^[0-9a-f]{64}$", args.GetValueOrDefault("NIX_TARBALL_SHA256") ?? "");
        Assert.Contains("https://releases.nixos.org/nix/nix-${NIX_VERSION}/nix-${NIX_VERSION}-x86_64-linux.tar.xz", run, StringComparison.Ordinal);
        Assert.Contains("echo \"${NIX_TARBALL_SHA256}  /tmp/nix.tar.xz\" | sha256sum -c -", run, StringComparison.Ordinal);
        Assert.Contains("--no-daemon", run, StringComparison.Ordinal);
        Assert.Contains("'sandbox = false'", run, StringComparison.Ordinal);
        Assert.Contains("grep -qF \" ${NIX_VERSION}\"", run, StringComparison.Ordinal);
        // Single-user Nix belongs to the user the Functions host runs as.
        Assert.Equal("root", user);
        Assert.Equal(user, Env["USER"]);
    }

    [Fact]
    public void ImageWarmsTheChannelTheDeploymentBuildsFromByDefault()
    {
        var channel = Args["NIXPKGS_CHANNEL"];
        var bicepDefault = BicepDefault().Match(File.ReadAllText(Path.Combine(RepoPaths.Root, "infra", "main.bicep"))).Groups[1].Value;
        var deployDefault = DeployDefault().Match(File.ReadAllText(Path.Combine(RepoPaths.Root, "scripts", "deploy"))).Groups[1].Value;

        Assert.Equal(bicepDefault, channel);
        Assert.Equal(deployDefault, channel);
        Assert.Contains("nix-instantiate --eval -E '(import <nixpkgs> {}).lib.version'", string.Join("\n", Instructions.Where(i => i.Instruction == "RUN").Select(i => i.Arguments)), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"(?m)^\s*([A-Za-z]+)\s+(.*)$")]
    private static partial Regex InstructionLine();

    [GeneratedRegex(@"param packageSource string = '([^']+)'")]
    private static partial Regex BicepDefault();

    [GeneratedRegex("(?m)^package_source=\"([^\"]+)\"")]
    private static partial Regex DeployDefault();
}
