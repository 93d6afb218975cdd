// The worker's package index (issue 13): evaluated with real Nix from the offline package set
// and written once per source revision; an index that cannot be evaluated is logged and left
// out, never thrown at the build.
using Microsoft.Extensions.Logging;
using Nixery.Builder.Nix;
using Nixery.Builder.Sources;
using Nixery.Builder.Tests.Nix;
using Nixery.Core.Sources;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Builder.Tests.Sources;

public sealed class PackageIndexPublisherTests
{
    private static readonly PackageSource Source = new(SourceKinds.Path, RepoPaths.PackageSetDir, "sha256-test-revision");

    [Fact]
    public async Task TheOfflineSetsIndexListsItsTopLevelAttributesWithVersionsAndTheMetaPackagesOnce()
    {
        using var dir = new TempDir("nixery-index");
        var store = new RegistryStore(new FileSystemStorage(dir.Path));
        var logger = new ListLogger<PackageIndexPublisher>();
        var publisher = new PackageIndexPublisher(store, new NixOptions { NixExpressionsPath = RepoPaths.NixDir }, logger);
        var info = PackageSetInfo.Load(RepoPaths.PackageSetDir);

        await publisher.PublishAsync(Source, RepoPaths.PackageSetDir, info, CancellationToken.None);
        await publisher.PublishAsync(Source, RepoPaths.PackageSetDir, info, CancellationToken.None);

        var index = await store.GetPackageIndexAsync(Source, CancellationToken.None);
        Assert.NotNull(index);
        Assert.Equal(Source, index.Source);
        Assert.Equal(["arm64", "nonroot", "shell"], index.MetaPackages);
        Assert.Equal([.. index.Packages.Select(p => p.Name).Order(StringComparer.Ordinal)], index.Packages.Select(p => p.Name));
        var bash = Assert.Single(index.Packages, p => p.Name == "bash");
        Assert.Matches(@"^5\.", bash.Version);
        Assert.Contains(index.Packages, p => p.Name == "bashInteractive");
        Assert.Contains(index.Packages, p => p.Name == "debian");
        Assert.Single(logger.Entries, e => e.Message.StartsWith("published package index", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnIndexThatDoesNotEvaluateIsLoggedAndNotWrittenAndDoesNotThrow()
    {
        using var dir = new TempDir("nixery-index-broken");
        using var set = new TempDir("nixery-index-broken-set");
        await File.WriteAllTextAsync(Path.Combine(set.Path, "default.nix"), "throw \"this package set does not evaluate\"");
        var store = new RegistryStore(new FileSystemStorage(dir.Path));
        var logger = new ListLogger<PackageIndexPublisher>();
        var publisher = new PackageIndexPublisher(store, new NixOptions { NixExpressionsPath = RepoPaths.NixDir }, logger);

        await publisher.PublishAsync(Source, set.Path, PackageSetInfo.Default, CancellationToken.None);

        Assert.Null(await store.GetPackageIndexAsync(Source, CancellationToken.None));
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.StartsWith("no package index for path", StringComparison.Ordinal));
    }
}
