// scripts/deploy --dry-run prints every resource and every command, offline (issue 6, "done
// when" 3; issue 10: the same shape with the worker as a Functions app). The Azure CLI, dotnet, docker and zip on its PATH are stand-ins that record any
// call, so the test also proves the dry run runs none of them. The resources it must list
// are the ones InfraSnapshot evaluates from the same parameters.
using System.Text.RegularExpressions;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests.Deploy;

public sealed class DeployDryRunTests(InfraSnapshot infra) : IClassFixture<InfraSnapshot>, IDisposable
{
    private const string Group = InfraSnapshot.ResourceGroup;
    private const string Registry = InfraSnapshot.PrefixWithoutHyphens + "acr";

    private readonly TempDir _bin = new("nixery-deploy-stand-ins");

    public void Dispose() => _bin.Dispose();

    private string CallLog => _bin.Combine("calls.log");

    [Fact]
    public async Task DryRunListsEveryResourceOfTheBicep()
    {
        var output = (await DeployAsync("--dry-run")).EnsureSuccess("scripts/deploy --dry-run").Stdout;

        var missing = new List<string>();
        foreach (var resource in infra.Resources)
        {
            var type = resource.GetProperty("type").GetString()!;
            var name = resource.GetProperty("name").GetString()!;
            var line = type == "Microsoft.Authorization/roleAssignments"
                ? $@"^\s+{Regex.Escape(type)}\s+.+ for .+ on .+$"
                : $@"^\s+{Regex.Escape(type)}\s+{Regex.Escape(name)}$";
            if (!Regex.IsMatch(output, line, RegexOptions.Multiline))
            {
                missing.Add($"{type} {name}");
            }
        }

        Assert.True(missing.Count == 0, "scripts/deploy --dry-run does not list:\n" + string.Join("\n", missing) + "\nit printed:\n" + output);
        Assert.Equal(
            infra.OfType("Microsoft.Authorization/roleAssignments").Count,
            Regex.Count(output, @"^\s+Microsoft\.Authorization/roleAssignments\s", RegexOptions.Multiline));
        Assert.Contains($"Storage Queue Data Contributor for {InfraSnapshot.NamePrefix}-worker-id on {InfraSnapshot.PrefixWithoutHyphens}data", output, StringComparison.Ordinal);
        Assert.Contains($"Storage Blob Data Owner for {InfraSnapshot.NamePrefix}-worker-id on {InfraSnapshot.PrefixWithoutHyphens}whost", output, StringComparison.Ordinal);
        Assert.False(File.Exists(CallLog), "the dry run ran: " + (File.Exists(CallLog) ? File.ReadAllText(CallLog) : ""));
    }

    [Fact]
    public async Task DryRunPrintsEveryCommandInOrderAndRunsNone()
    {
        var output = (await DeployAsync("--dry-run")).EnsureSuccess("scripts/deploy --dry-run").Stdout;

        var expected = new[]
        {
            "scripts/bicep build infra/main.bicep --outfile artifacts/deploy/main.json",
            "az provider register --namespace Microsoft.App --wait",
            $"az group create --name {Group} --location westeurope",
            $"az deployment group create --resource-group {Group} --name nixery-infra --template-file artifacts/deploy/main.json --parameters namePrefix={InfraSnapshot.NamePrefix} location=westeurope packageSource={InfraSnapshot.PackageSource} maxWorkers={InfraSnapshot.MaxWorkers}",
            "scripts/publish --out artifacts",
            $"az acr build --registry {Registry} --image nixery-worker:",
            $"--build-arg NIXPKGS_CHANNEL={InfraSnapshot.PackageSource} --file Containerfile artifacts/worker",
            $"maxWorkers={InfraSnapshot.MaxWorkers} workerImage={Registry}.azurecr.io/nixery-worker:",
            $"az functionapp deployment source config-zip --resource-group {Group} --name {InfraSnapshot.NamePrefix} --src artifacts/functionapp.zip",
            $"docker pull {InfraSnapshot.NamePrefix}.azurewebsites.net/shell/git",
            $"az group delete --name {Group} --yes",
        };
        var at = 0;
        foreach (var text in expected)
        {
            var found = output.IndexOf(text, at, StringComparison.Ordinal);
            Assert.True(found >= 0, $"scripts/deploy --dry-run does not print '{text}' after what came before; it printed:\n{output}");
            at = found + text.Length;
        }

        Assert.False(File.Exists(CallLog), "the dry run ran: " + (File.Exists(CallLog) ? File.ReadAllText(CallLog) : ""));
    }

    [Fact]
    public async Task TeardownDryRunPrintsTheGroupDeletion()
    {
        var output = (await DeployAsync("--teardown", "--dry-run")).EnsureSuccess("scripts/deploy --teardown --dry-run").Stdout;

        Assert.Contains($"az group delete --name {Group} --yes --no-wait", output, StringComparison.Ordinal);
        Assert.False(File.Exists(CallLog), "the dry run ran: " + (File.Exists(CallLog) ? File.ReadAllText(CallLog) : ""));
    }

    [Fact]
    public async Task APrefixThatCannotNameTheResourcesIsRefusedByName()
    {
        var result = await RunAsync(["--name-prefix", "Nixery_CI", "--dry-run"]);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("deploy: error: --name-prefix 'Nixery_CI' must be 3 to 18 lower-case letters", result.Stderr, StringComparison.Ordinal);
    }

    private Task<ProcessResult> DeployAsync(params string[] extra) =>
        RunAsync([
            "--name-prefix", InfraSnapshot.NamePrefix, "--resource-group", Group, "--location", "westeurope",
            "--package-source", InfraSnapshot.PackageSource, "--max-workers", $"{InfraSnapshot.MaxWorkers}", .. extra]);

    /// <summary>scripts/deploy with stand-ins for az, dotnet, docker and zip first on its PATH.</summary>
    private async Task<ProcessResult> RunAsync(string[] args)
    {
        // The Bicep CLI is fetched (with dotnet) before the stand-ins take dotnet's place.
        (await Bicep.RunAsync("--version")).EnsureSuccess("scripts/bicep --version");
        foreach (var tool in new[] { "az", "dotnet", "docker", "zip" })
        {
            var standIn = _bin.Combine(tool);
            await File.WriteAllTextAsync(standIn, $"#!/bin/sh\necho \"{tool} $*\" >> '{CallLog}'\nexit 97\n");
            (await ProcessRunner.RunAsync("chmod", ["+x", standIn])).EnsureSuccess("chmod");
        }

        return await ProcessRunner.RunAsync(
            "env", [$"PATH={_bin.Path}:{Environment.GetEnvironmentVariable("PATH")}", Path.Combine(RepoPaths.Root, "scripts", "deploy"), .. args], TimeSpan.FromMinutes(5), RepoPaths.Root);
    }
}
