// infra/main.bicep evaluated here, offline, with fixed parameters: `bicep snapshot` (the
// pinned Bicep CLI, scripts/bicep) predicts every resource the deployment would create with
// its name and properties, modules included. Values only Azure knows at deployment time
// (an identity's client id, an endpoint) stay ARM expressions such as "[reference(...)]".
using System.Globalization;
using System.Text.Json;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests.Deploy;

public sealed class InfraSnapshot : IAsyncLifetime
{
    public const string NamePrefix = "nixery-ci";
    public const string PrefixWithoutHyphens = "nixeryci";
    public const string ResourceGroup = "nixery-ci-rg";
    public const string PackageSource = "nixos-24.11";
    public const int MaxWorkers = 5;
    public const string WorkerImage = "nixeryciacr.azurecr.io/nixery-worker:test";

    private readonly TempDir _folder = new("nixery-infra-snapshot");
    private JsonDocument? _snapshot;

    public static string InfraDir => Path.Combine(RepoPaths.Root, "infra");

    public IReadOnlyList<JsonElement> Resources =>
        [.. (_snapshot ?? throw new InvalidOperationException("not evaluated")).RootElement.GetProperty("predictedResources").EnumerateArray()];

    public async Task InitializeAsync()
    {
        var main = Path.Combine(InfraDir, "main.bicep");
        var parameters = _folder.Combine("ci.bicepparam");
        await File.WriteAllLinesAsync(parameters, [
            $"using '{Path.GetRelativePath(_folder.Path, main)}'",
            $"param namePrefix = '{NamePrefix}'",
            $"param packageSource = '{PackageSource}'",
            $"param maxWorkers = {MaxWorkers.ToString(CultureInfo.InvariantCulture)}",
            $"param workerImage = '{WorkerImage}'",
        ]);
        var result = await Bicep.RunAsync(
            "snapshot", parameters, "--mode", "overwrite", "--subscription-id", Guid.Empty.ToString(),
            "--resource-group", ResourceGroup, "--location", "westeurope");
        result.EnsureSuccess("bicep snapshot of infra/main.bicep");
        _snapshot = JsonDocument.Parse(await File.ReadAllTextAsync(_folder.Combine("ci.snapshot.json")));
    }

    public Task DisposeAsync()
    {
        _snapshot?.Dispose();
        _folder.Dispose();
        return Task.CompletedTask;
    }

    public IReadOnlyList<JsonElement> OfType(string type) =>
        [.. Resources.Where(r => r.GetProperty("type").GetString() == type)];

    /// <summary>The one resource of that type and name; fails naming what there is instead.</summary>
    public JsonElement Resource(string type, string name)
    {
        var matches = OfType(type).Where(r => r.GetProperty("name").GetString() == name).ToList();
        return matches.Count == 1
            ? matches[0]
            : throw new Xunit.Sdk.XunitException(
                $"infra/*.bicep: expected one {type} named '{name}'; the snapshot has: "
                + string.Join(", ", OfType(type).Select(r => r.GetProperty("name").GetString())));
    }

    /// <summary>A name/value list (app settings, container env) as a dictionary.</summary>
    public static IReadOnlyDictionary<string, string> NameValues(JsonElement list) =>
        list.EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("value").GetString()!, StringComparer.Ordinal);

    /// <summary>Follows a dotted property path ("properties.siteConfig.appSettings").</summary>
    public static JsonElement At(JsonElement element, string path)
    {
        foreach (var part in path.Split('.'))
        {
            if (!element.TryGetProperty(part, out element))
            {
                throw new Xunit.Sdk.XunitException($"infra/*.bicep: the snapshot has no '{path}' (missing '{part}')");
            }
        }

        return element;
    }

    /// <summary>The resource id ARM gives a resource of this resource group.</summary>
    public static string ResourceId(string type, string name) =>
        $"/subscriptions/{Guid.Empty}/resourceGroups/{ResourceGroup}/providers/{type}/{name}";
}

/// <summary>The pinned Bicep CLI, through scripts/bicep (which fetches it on first use).</summary>
public static class Bicep
{
    public static Task<ProcessResult> RunAsync(params string[] args) =>
        ProcessRunner.RunAsync(Path.Combine(RepoPaths.Root, "scripts", "bicep"), args, TimeSpan.FromMinutes(5), RepoPaths.Root);
}
