// Real Nix against the offline Debian package set (scripts/setup generates it): name
// resolution as Nixery's deepFetch does it, realisation, and the runtime graph.
using Nixery.Builder.Nix;
using Nixery.TestSupport;

namespace Nixery.Builder.Tests.Nix;

public sealed class NixClientTests
{
    private static async Task<PrepareResult> PrepareAsync(params string[] packages)
    {
        var client = new NixClient(new NixOptions { NixExpressionsPath = RepoPaths.NixDir, Timeout = TimeSpan.FromMinutes(5) }, new ListLogger<NixClient>());
        return await client.PrepareAsync(new PrepareRequest(packages, "x86_64-linux", RepoPaths.PackageSetDir), CancellationToken.None);
    }

    private static string StoreName(string path) => path["/nix/store/".Length..][33..];

    [Fact]
    public async Task BashAndGitResolveToAClosedGraphHoldingLibc()
    {
        var prepared = Assert.IsType<Prepared>(await PrepareAsync("bash", "git"));

        Assert.Equal(2, prepared.TopLevel.Count);
        Assert.StartsWith("bash-5", StoreName(prepared.TopLevel[0]));
        Assert.StartsWith("git-", StoreName(prepared.TopLevel[1]));

        var paths = prepared.Graph.Paths.Select(p => p.Path).ToList();
        Assert.Equal(paths.Order(StringComparer.Ordinal), paths);
        Assert.Contains(prepared.TopLevel[0], paths);
        Assert.Contains(prepared.TopLevel[1], paths);
        var libc = Assert.Single(paths, p => StoreName(p).StartsWith("libc6", StringComparison.Ordinal));

        var bash = prepared.Graph.Paths.Single(p => p.Path == prepared.TopLevel[0]);
        Assert.Contains(libc, bash.References);
        Assert.True(bash.NarSize > 1_000_000, $"bash's NAR is {bash.NarSize} bytes");
        Assert.True(bash.ClosureSize > bash.NarSize);
        foreach (var info in prepared.Graph.Paths)
        {
            Assert.All(info.References, r => Assert.Contains(r, paths));
        }

        // The Debian set asks for linkClosure: top-levels first, then the rest by path.
        Assert.Equal(
            [.. prepared.TopLevel, .. paths.Where(p => !prepared.TopLevel.Contains(p))],
            prepared.LinkRoots);
    }

    [Fact]
    public async Task BashOutputHasBinShAndDependsFile()
    {
        var prepared = Assert.IsType<Prepared>(await PrepareAsync("bash"));
        var bash = prepared.TopLevel[0];

        Assert.Equal("bash", new FileInfo(Path.Combine(bash, "bin", "sh")).LinkTarget);
        Assert.True(File.Exists(Path.Combine(bash, "bin", "bash")));
        var depends = File.ReadAllLines(Path.Combine(bash, "nix-support", "depends"));
        var references = prepared.Graph.Paths.Single(p => p.Path == bash).References;
        Assert.Equal(depends.Order(StringComparer.Ordinal), references.Where(r => r != bash));
    }

    [Fact]
    public async Task LowerCaseNameFindsCamelCaseAttribute()
    {
        var lower = Assert.IsType<Prepared>(await PrepareAsync("bashinteractive"));
        var bash = Assert.IsType<Prepared>(await PrepareAsync("bash"));

        Assert.Equal(bash.TopLevel, lower.TopLevel);
    }

    [Fact]
    public async Task DottedNameWalksNestedSet()
    {
        var dotted = Assert.IsType<Prepared>(await PrepareAsync("debian.git"));
        var plain = Assert.IsType<Prepared>(await PrepareAsync("git"));

        Assert.Equal(plain.TopLevel, dotted.TopLevel);
    }

    [Theory]
    [InlineData("python3.11", "python3.11-3")]
    [InlineData("libbz2-1.0", "libbz2-1.0-")]
    public async Task ANameWithDotsIsFirstTriedWholeAsOneAttribute(string name, string storeName)
    {
        var prepared = Assert.IsType<Prepared>(await PrepareAsync(name));

        Assert.StartsWith(storeName, StoreName(Assert.Single(prepared.TopLevel)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownDottedNamesAreNamedAsAskedFor()
    {
        var missing = Assert.IsType<PackagesNotFound>(await PrepareAsync("python3.99", "debian.nosuchpkg", "no.such.thing"));

        Assert.Equal(["python3.99", "debian.nosuchpkg", "no.such.thing"], missing.Missing);
    }

    [Fact]
    public async Task LicencesOfTheClosureComeFromThePackageSet()
    {
        var prepared = Assert.IsType<Prepared>(await PrepareAsync("bash"));

        // Debian's copyright file of bash says "License: GPL-3+", which is SPDX's GPL-3.0-or-later.
        Assert.Equal([new PackageLicense("GPL-3.0-or-later", "GPL-3+")], prepared.Licenses![prepared.TopLevel[0]]);
        // Dependencies count too (those whose copyright file is machine-readable: not libc6's).
        Assert.Contains(prepared.Licenses.Keys, p => p != prepared.TopLevel[0] && prepared.Graph.Paths.Any(g => g.Path == p));
    }

    [Fact]
    public async Task PythonsLinkIntoTheInterpretersPackageResolves()
    {
        // python3-minimal's /usr/bin/python3 -> python3.11 is a file of python3.11-minimal; the
        // generator points it there (nix/debian/generate, step 5).
        var prepared = Assert.IsType<Prepared>(await PrepareAsync("python3"));
        var minimal = prepared.Graph.Paths.Single(p => StoreName(p.Path).StartsWith("python3-minimal-", StringComparison.Ordinal)).Path;

        var link = new FileInfo(Path.Combine(minimal, "usr", "bin", "python3")).LinkTarget!;
        Assert.Matches("^/nix/store/[a-z0-9]{32}-python3.11-minimal-[^/]+/usr/bin/python3.11$", link);
        Assert.True(File.Exists(link));
        Assert.Contains(link[..link.IndexOf("/usr/", StringComparison.Ordinal)], prepared.Graph.Paths.Single(p => p.Path == minimal).References);
    }

    [Fact]
    public async Task AllMissingNamesAreReportedTogether()
    {
        var result = await PrepareAsync("nosuchpkg", "bash", "alsomissing", "debian");

        // "debian" exists but is a set, not a package.
        var missing = Assert.IsType<PackagesNotFound>(result);
        Assert.Equal(["nosuchpkg", "alsomissing", "debian"], missing.Missing);
    }

    [Fact]
    public async Task AlwaysIncludedPackagesResolve()
    {
        var prepared = Assert.IsType<Prepared>(await PrepareAsync("cacert", "iana-etc"));

        Assert.True(File.Exists(Path.Combine(prepared.TopLevel[0], "etc", "ssl", "certs", "ca-certificates.crt")));
        Assert.True(File.Exists(Path.Combine(prepared.TopLevel[1], "etc", "services")));
        Assert.Empty(prepared.Graph.Paths.Single(p => p.Path == prepared.TopLevel[0]).References);
    }

    [Fact]
    public void DebianSetMetadataIsRead()
    {
        var info = PackageSetInfo.Load(RepoPaths.PackageSetDir);

        Assert.Equal("debian-offline", info.Name);
        Assert.True(info.LinkClosure);
        Assert.Equal(["cacert", "iana-etc"], info.AlwaysInclude);
        Assert.Equal(["bashInteractive", "coreutils"], info.Shell);
        Assert.Equal("x86_64-linux", info.System);
    }

    [Fact]
    public void SetWithoutMetadataGetsNixpkgsDefaults()
    {
        using var dir = new TempDir();

        var info = PackageSetInfo.Load(dir.Path);

        Assert.Equal("nixpkgs", info.Name);
        Assert.False(info.LinkClosure);
        Assert.Equal(["cacert", "iana-etc"], info.AlwaysInclude);
        Assert.Equal(["bashInteractive", "coreutils", "moreutils", "nano"], info.Shell);
        Assert.Equal("x86_64-linux", info.System);
    }
}
