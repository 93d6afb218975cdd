// The offline package set must be reproducible: the same dpkg database and generator give
// byte-identical Nix files and therefore the same store paths, or image keys and layer
// caches would churn between machines and runs.
using Nixery.Builder.Nix;
using Nixery.TestSupport;

namespace Nixery.Builder.Tests.Nix;

public sealed class DebianPackageSetTests
{
    private static async Task GenerateAsync(string output)
    {
        var result = await ProcessRunner.RunAsync(RepoPaths.GeneratorPath, ["--out", output, "--packages", "bash", "netbase", "ca-certificates"], TimeSpan.FromMinutes(2));
        result.EnsureSuccess("nix/debian/generate");
    }

    private static async Task<string> BashPathAsync(string set)
    {
        var client = new NixClient(new NixOptions { NixExpressionsPath = RepoPaths.NixDir, Timeout = TimeSpan.FromMinutes(5) }, new ListLogger<NixClient>());
        var prepared = Assert.IsType<Prepared>(await client.PrepareAsync(new PrepareRequest(["bash"], "x86_64-linux", set), CancellationToken.None));
        return Assert.Single(prepared.TopLevel);
    }

    private static SortedDictionary<string, byte[]> ReadTree(string root) => new(
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllBytes),
        StringComparer.Ordinal);

    [Fact]
    public async Task GeneratingTwiceGivesIdenticalFilesAndStorePaths()
    {
        using var dir = new TempDir("pkgset");
        var first = dir.Combine("first");
        var second = dir.Combine("second");

        await GenerateAsync(first);
        await GenerateAsync(second);

        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "default.nix")), File.ReadAllBytes(Path.Combine(second, "default.nix")));
        var a = ReadTree(first);
        var b = ReadTree(second);
        Assert.Equal(a.Keys, b.Keys);
        Assert.All(a, kv => Assert.Equal(kv.Value, b[kv.Key]));

        var bash = await BashPathAsync(first);
        Assert.Equal(bash, await BashPathAsync(second));
        // A set generated from other roots holds the same bash derivation.
        Assert.Equal(bash, await BashPathAsync(RepoPaths.PackageSetDir));
    }

    [Fact]
    public async Task DependencyCycleBecomesOneDerivation()
    {
        using var dir = new TempDir("pkgset");
        await GenerateAsync(dir.Path);
        var text = File.ReadAllText(dir.Combine("default.nix"));

        // libc6 <-> libgcc-s1 depend on each other; both names point at one component.
        Assert.Contains("\"libc6\" = c.\"libc6+libgcc-s1\";", text);
        Assert.Contains("\"libgcc-s1\" = c.\"libc6+libgcc-s1\";", text);
        Assert.DoesNotContain(DateTime.UtcNow.Year.ToString(System.Globalization.CultureInfo.InvariantCulture), text);
    }
}
