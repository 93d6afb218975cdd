// Popularity counting (Nixery's popcount: direct references from other store paths) on real
// Nix data: a local binary cache made with `nix copy --to file://…` of offline-set packages,
// checked against what `nix path-info --json --recursive` says about the same paths, and the
// package-set mode of the worker host's popularity command on the whole offline set.
//
// The namespace is not …Tests.Popularity: that would hide Nixery.Builder.Layers.Popularity
// from the other test namespaces under Nixery.Builder.Tests.
using System.Text.Json;
using Nixery.Builder.Layers;
using Nixery.Builder.PopularityData;
using Nixery.TestSupport;
using Nixery.Builder.Nix;

namespace Nixery.Builder.Tests.PopularityData;

public sealed class PopularityCountingTests
{
    private static readonly TimeSpan NixTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task NarinfoCountsOfALocalBinaryCacheMatchNixPathInfo()
    {
        using var temp = new TempDir("nixery-popcache");
        var outs = (await Run("nix-build", ["--no-out-link", RepoPaths.PackageSetDir, "-A", "bash", "-A", "coreutils"]))
            .Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, outs.Length);
        var cache = temp.Combine("cache");
        await Run("nix", ["--extra-experimental-features", "nix-command", "copy", "--to", "file://" + cache, .. outs]);

        // What Nix itself says about the closure: each path's direct references.
        var pathInfo = await Run("nix", ["--extra-experimental-features", "nix-command", "path-info", "--json", "--recursive", .. outs]);
        var expected = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var closure = new List<string>();
        using (var document = JsonDocument.Parse(pathInfo.Stdout))
        {
            foreach (var entry in document.RootElement.EnumerateArray())
            {
                var path = entry.GetProperty("path").GetString()!;
                closure.Add(path);
                foreach (var reference in entry.GetProperty("references").EnumerateArray().Select(r => r.GetString()!).Where(r => r != path))
                {
                    var name = StorePaths.Name(reference);
                    expected[name] = expected.GetValueOrDefault(name) + 1;
                }
            }
        }

        var entries = PopularityCounter.ReadBinaryCache(cache);
        Assert.Equal(closure.Order(StringComparer.Ordinal), entries.Select(e => e.Path).Order(StringComparer.Ordinal));
        var counted = PopularityCounter.CountDirectReferences(entries);
        Assert.Equal(expected, counted);

        // bash and coreutils both link libc, and so do most of their dependencies.
        var libc = Assert.Single(counted, c => c.Key.StartsWith("libc6", StringComparison.Ordinal));
        Assert.True(libc.Value >= 3, $"libc6 is referenced by {libc.Value} paths of the closure");

        // The command reads the same cache, given as file:// URL or as a folder, and writes the same counts.
        foreach (var cacheArgument in new[] { "file://" + cache, cache })
        {
            var outFile = temp.Combine("popularity.json");
            var (exit, stdout, stderr) = await RunCommandAsync(["--binary-cache", cacheArgument, "--out", outFile]);
            Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
            Assert.Contains($"{closure.Count} store paths in the binary cache", stdout);
            var text = await File.ReadAllTextAsync(outFile);
            Assert.Equal(expected, PopularityCounter.ReadJson(text));
            Assert.Contains($"\"{libc.Key}\": {libc.Value}", text);
        }
    }

    [Fact]
    public async Task PackageSetModeCountsTheOfflineSet()
    {
        using var temp = new TempDir("nixery-popset");
        var outFile = temp.Combine("popularity.json");
        var (exit, stdout, stderr) = await RunCommandAsync(["--package-set", RepoPaths.PackageSetDir, "--out", outFile]);
        Assert.True(exit == 0, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.Contains("top-level packages in", stdout);
        Assert.Contains("most referenced: libc6", stdout);

        var text = await File.ReadAllTextAsync(outFile);
        var counts = PopularityCounter.ReadJson(text);
        Assert.Equal(counts.Keys.Order(StringComparer.Ordinal), counts.Keys);
        var libc = Assert.Single(counts, c => c.Key.StartsWith("libc6", StringComparison.Ordinal));
        Assert.True(libc.Value >= 10, $"libc6 is referenced by only {libc.Value} paths of the offline set");
        Assert.Equal(libc.Value, counts.Values.Max());
        Assert.All(counts.Values, v => Assert.True(v >= 1));

        // Sorted by name, as the brief says; the text parses as the grouper's data.
        var popularity = Popularity.Parse(text);
        Assert.Equal(libc.Value, popularity.Of("/nix/store/00000000000000000000000000000000-" + libc.Key));
    }

    [Fact]
    public async Task UsageErrorsExitWithTwo()
    {
        Assert.Equal(2, (await RunCommandAsync([])).Exit);
        Assert.Equal(2, (await RunCommandAsync(["--package-set", RepoPaths.PackageSetDir])).Exit);
        Assert.Equal(2, (await RunCommandAsync(["--bogus"])).Exit);
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunCommandAsync(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await PopularityCommand.RunAsync(args, output, error, (_, _) => Task.FromResult<string?>("no storage in this test"), CancellationToken.None, RepoPaths.NixDir);
        return (exit, output.ToString(), error.ToString());
    }

    private static async Task<ProcessResult> Run(string file, IEnumerable<string> args) =>
        (await ProcessRunner.RunAsync(file, args, NixTimeout)).EnsureSuccess($"{file} {string.Join(' ', args)}");
}
