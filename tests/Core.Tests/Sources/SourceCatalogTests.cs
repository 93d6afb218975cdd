// Which source an image name and tag select: the first component, then the tag, then the
// default, which reads the tag itself.
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Sources;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Sources;

public sealed class SourceCatalogTests : IDisposable
{
    private readonly TempDir _folder = new();

    private readonly SourceCatalog _catalog;

    public SourceCatalogTests()
    {
        PackageSetRepo.WriteSet(_folder.Combine("set"), "one");
        _catalog = new SourceCatalog(
            [
                new SourceDefinition("default", SourceKinds.Git, "/srv/repo"),
                new SourceDefinition("stable", SourceKinds.Channel, "nixos-24.05"),
                new SourceDefinition("local", SourceKinds.Path, _folder.Combine("set")),
            ],
            new FakeTimeProvider(),
            TimeSpan.FromSeconds(60),
            new HttpClient());
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task TagsOfANameInASourceAreThatSourcesTagsOnly()
    {
        var (packages, tags) = await _catalog.ListTagsAsync("local/shell/git", CancellationToken.None);

        Assert.Equal("shell/git", packages);
        Assert.Equal(["latest"], tags);
    }

    [Fact]
    public async Task TagsOfOtherNamesAreTheDefaultSourcesAndTheOtherSourcesNames()
    {
        var folderDefault = new SourceCatalog(
            [
                new SourceDefinition("default", SourceKinds.Path, _folder.Combine("set")),
                new SourceDefinition("stable", SourceKinds.Channel, "nixos-24.05"),
                new SourceDefinition("local", SourceKinds.Path, _folder.Combine("set")),
            ],
            new FakeTimeProvider(),
            TimeSpan.FromSeconds(60),
            new HttpClient());

        var (packages, tags) = await folderDefault.ListTagsAsync("shell/git", CancellationToken.None);

        Assert.Equal("shell/git", packages);
        Assert.Equal(["latest", "local", "stable"], tags);
    }

    [Theory]
    [InlineData("stable/shell/git", "latest", "stable", "shell/git", "latest")]
    [InlineData("stable/git", "v2", "stable", "git", "v2")]
    [InlineData("shell/git", "stable", "stable", "shell/git", "latest")]
    [InlineData("shell/git", "local", "local", "shell/git", "latest")]
    [InlineData("shell/git", "latest", "default", "shell/git", "latest")]
    [InlineData("shell/git", "main", "default", "shell/git", "main")]
    [InlineData("git/stable", "latest", "default", "git/stable", "latest")]
    [InlineData("stable", "latest", "default", "stable", "latest")]
    [InlineData("local/stable/git", "latest", "local", "stable/git", "latest")]
    public void SelectTakesTheFirstComponentThenTheTagThenTheDefault(string name, string tag, string source, string packages, string sourceTag)
    {
        var selection = _catalog.Select(name, tag);

        Assert.Equal((source, packages, sourceTag), (selection.Source.Definition.Name, selection.Packages, selection.Tag));
    }

    [Fact]
    public void TheDefaultIsTheFirstSource()
    {
        Assert.Equal(new SourceDefinition("default", SourceKinds.Git, "/srv/repo"), _catalog.Default.Definition);
        Assert.Equal(["default", "stable", "local"], _catalog.All.Select(s => s.Definition.Name));
    }
}
