// Popularity end to end: the worker host's `popularity` command run as its own process
// (dotnet Nixery.Worker.dll popularity …) writes popularity/computed.json into the storage
// the worker is configured with, filesystem or Azure Blob (Azurite); a registry on that
// storage builds with it and learns from what it built; and a popularity file
// (NIX_POPULARITY_URL) that makes a library of git popular changes git's layer split, with
// Nixery's grouper (NIXERY_LAYERING=nixery) and with the default, stable grouper.
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Nixery.Builder.Layers;
using Nixery.Builder.PopularityData;
using Nixery.Core.Names;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests;

public sealed class PopularityTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task StoredPopularityIsWrittenToFilesystemStorageAndTheRegistryLearnsFromBuilds()
    {
        using var temp = new TempDir("nixery-e2e-pop");
        var storage = temp.Combine("storage");
        var outFile = temp.Combine("popularity.json");
        var run = await RunCommandAsync(
            ["--package-set", RepoPaths.PackageSetDir, "--out", outFile, "--store"],
            new Dictionary<string, string> { ["STORAGE_PATH"] = storage, ["NIXERY_NIX_PATH"] = RepoPaths.NixDir });
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("realising them", run.Stdout);
        Assert.Contains("most referenced: libc6", run.Stdout);
        Assert.Contains($"wrote {StorageLayout.ComputedPopularity}", run.Stdout);

        var written = await File.ReadAllTextAsync(outFile);
        Assert.Equal(written, await File.ReadAllTextAsync(Path.Combine(storage, StorageLayout.ComputedPopularity)));
        using (var document = JsonDocument.Parse(written))
        {
            var libc = document.RootElement.EnumerateObject().Single(p => p.Name.StartsWith("libc6", StringComparison.Ordinal));
            Assert.True(libc.Value.GetInt32() >= 10, $"libc6: {libc.Value}");
        }

        // A registry on that storage builds git and counts git's package names into learned.json.
        await using var registry = await RegistryInstance.StartAsync(storage, new Dictionary<string, string?> { ["NIXERY_BUILD_WAIT"] = "600" });
        await ManifestLayerCountAsync(registry, "git");
        var learned = await registry.Services.GetRequiredService<PopularityStore>().GetLearnedAsync(CancellationToken.None);
        Assert.NotNull(learned);
        using var counts = JsonDocument.Parse(learned.Json);
        Assert.Equal(1, counts.RootElement.EnumerateObject().Single(p => p.Name.StartsWith("git-1", StringComparison.Ordinal)).Value.GetInt32());
        Assert.Equal(1, counts.RootElement.EnumerateObject().Single(p => p.Name.StartsWith("libc6", StringComparison.Ordinal)).Value.GetInt32());
        Assert.Equal(written, await File.ReadAllTextAsync(Path.Combine(storage, StorageLayout.ComputedPopularity)));
    }

    [Fact]
    public async Task StoredPopularityIsWrittenToAzureBlobStorage()
    {
        await using var azurite = await Azurite.StartAsync();
        var container = new BlobContainerClient(azurite.ConnectionString, "nixery-pop-" + Guid.NewGuid().ToString("N")[..8]);
        using var temp = new TempDir("nixery-e2e-pop-azure");

        // A binary cache of bash, as `nix copy --to file://…` writes it.
        var bash = (await ProcessRunner.RunAsync("nix-build", ["--no-out-link", RepoPaths.PackageSetDir, "-A", "bash"], CommandTimeout))
            .EnsureSuccess("nix-build bash").Stdout.Trim();
        var cache = temp.Combine("cache");
        (await ProcessRunner.RunAsync("nix", ["--extra-experimental-features", "nix-command", "copy", "--to", "file://" + cache, bash], CommandTimeout))
            .EnsureSuccess("nix copy");

        var run = await RunCommandAsync(
            ["--binary-cache", "file://" + cache, "--store"],
            new Dictionary<string, string>
            {
                ["NIXERY_STORAGE_BACKEND"] = "azure",
                ["AZURE_STORAGE_CONNECTION_STRING"] = azurite.ConnectionString,
                ["NIXERY_STORAGE_CONTAINER"] = container.Name,
                ["NIXERY_PKGS_PATH"] = RepoPaths.PackageSetDir,
                ["NIXERY_NIX_PATH"] = RepoPaths.NixDir,
            });
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");

        var blob = await container.GetBlobClient(StorageLayout.ComputedPopularity).DownloadContentAsync();
        using var document = JsonDocument.Parse(blob.Value.Content.ToString());
        var libc = document.RootElement.EnumerateObject().Single(p => p.Name.StartsWith("libc6", StringComparison.Ordinal));
        Assert.True(libc.Value.GetInt32() >= 2, $"libc6: {libc.Value}");
    }

    [Fact]
    public async Task APopularityFileThatMakesLibexpatPopularSplitsGitsLayersWithNixerysGrouper()
    {
        using var temp = new TempDir("nixery-e2e-pop-split");
        var settings = new Dictionary<string, string?> { ["NIXERY_BUILD_WAIT"] = "600", ["NIXERY_LAYER_BUDGET"] = "100", ["NIXERY_LAYERING"] = "nixery" };
        await using var plain = await RegistryInstance.StartAsync(temp.Combine("plain"), settings);
        var plainLayers = await ManifestLayerCountAsync(plain, "git");

        // libexpat1 is referred to by git alone; popular, it and libc6 (which it shares with
        // git) leave git's layer (see ImageBuilderPopularityTests for the exact contents).
        var file = await ExpatPopularityFileAsync(temp, 100);
        await using var popular = await RegistryInstance.StartAsync(temp.Combine("popular"), new Dictionary<string, string?>(settings) { ["NIX_POPULARITY_URL"] = "file://" + file });
        var popularLayers = await ManifestLayerCountAsync(popular, "git");

        Assert.Equal(plainLayers + 2, popularLayers);
    }

    [Fact]
    public async Task APopularityFileThatMakesLibexpatPopularGivesItALayerOfItsOwnWithTheStableGrouper()
    {
        // The default grouper. Budget 20 is less than git's closure, so only the highest-ranked
        // paths get a layer of their own; libexpat1 (a few hundred KiB) is not among them until
        // popularity 10^9 multiplies its rank by ten.
        using var temp = new TempDir("nixery-e2e-pop-stable");
        var settings = new Dictionary<string, string?> { ["NIXERY_BUILD_WAIT"] = "600", ["NIXERY_LAYER_BUDGET"] = "20" };
        var expat = (await ProcessRunner.RunAsync("nix-build", ["--no-out-link", RepoPaths.PackageSetDir, "-A", "debian.libexpat1"], CommandTimeout))
            .EnsureSuccess("nix-build debian.libexpat1").Stdout.Trim();
        var expatLayer = ImageKeys.LayerKey(LayerGroup.KeyOf([expat])); // the layer cache key of exactly that path
        await using var plain = await RegistryInstance.StartAsync(temp.Combine("plain"), settings);
        var plainLayers = await ManifestLayerCountAsync(plain, "git");

        var file = await ExpatPopularityFileAsync(temp, 1_000_000_000);
        await using var popular = await RegistryInstance.StartAsync(temp.Combine("popular"), new Dictionary<string, string?>(settings) { ["NIX_POPULARITY_URL"] = "file://" + file });
        var popularLayers = await ManifestLayerCountAsync(popular, "git");

        Assert.Equal([20, 20], new[] { plainLayers, popularLayers });
        Assert.Null(await plain.Store.GetLayerAsync(expatLayer, CancellationToken.None));
        Assert.NotNull(await popular.Store.GetLayerAsync(expatLayer, CancellationToken.None));
    }

    private static async Task<string> ExpatPopularityFileAsync(TempDir temp, int popularity)
    {
        var expat = Directory.EnumerateFiles(Path.Combine(RepoPaths.PackageSetDir, "lists"), "libexpat1-*.list").Single();
        var file = temp.Combine("popularity.json");
        await File.WriteAllTextAsync(file, $"{{\"{Path.GetFileNameWithoutExtension(expat)}\": {popularity}}}");
        return file;
    }

    private static async Task<int> ManifestLayerCountAsync(RegistryInstance registry, string name)
    {
        using var response = await registry.Client.GetAsync($"v2/{name}/manifests/latest");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var manifest = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return manifest.RootElement.GetProperty("layers").GetArrayLength();
    }

    private static async Task<ProcessResult> RunCommandAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ServiceProcess.AssemblyOf("Worker", "Nixery.Worker.dll"));
        start.ArgumentList.Add("popularity");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        await process.WaitForExitAsync(timeout.Token);
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
