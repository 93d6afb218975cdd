// The git source against a real repository: which commit each kind of tag stands for, how
// long a moving target stays resolved, and what a client is told when a tag names nothing.
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Errors;
using Nixery.Core.Sources;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Sources;

public sealed class GitSourceTests : IAsyncLifetime
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(60);

    private static readonly HttpClient Http = new();

    private readonly FakeTimeProvider _time = new();

    private PackageSetRepo _repo = null!;

    private string _first = "";

    private string _second = "";

    public async Task InitializeAsync()
    {
        _repo = await PackageSetRepo.CreateAsync();
        _first = await _repo.CommitSetAsync("one", "first");
        await _repo.GitAsync("tag", "-a", "v1", "-m", "release one");
        await _repo.GitAsync("tag", "light", _first);
        _second = await _repo.CommitSetAsync("two", "second");
    }

    public Task DisposeAsync()
    {
        _repo.Dispose();
        return Task.CompletedTask;
    }

    private GitSource Source() => new(new SourceDefinition("default", SourceKinds.Git, _repo.Path), new RevisionCache(_time, CacheFor), Http);

    [Fact]
    public async Task TagsAreLatestTheBranchesAndTheTagsThatAreValidRegistryTags()
    {
        await _repo.GitAsync("branch", "feature/slashed");
        await _repo.GitAsync("branch", "release-24.05");

        var tags = await Source().ListTagsAsync(CancellationToken.None);

        var branch = (await _repo.GitAsync("rev-parse", "--abbrev-ref", "HEAD")).Trim();
        Assert.Equal(new[] { "latest", branch, "light", "release-24.05", "v1" }.Distinct().Order(StringComparer.Ordinal), tags.Order(StringComparer.Ordinal));
        Assert.Equal("latest", tags[0]);
    }

    [Fact]
    public async Task LatestIsTheDefaultBranchHead()
    {
        Assert.Equal(new PackageSource("git", _repo.Path, _second), await Source().ResolveAsync("latest", CancellationToken.None));
    }

    [Fact]
    public async Task AFortyHexTagIsThatCommit()
    {
        Assert.Equal(new PackageSource("git", _repo.Path, _first), await Source().ResolveAsync(_first, CancellationToken.None));
    }

    [Fact]
    public async Task AFortyHexTagIsTakenAsItIsWithoutALookup()
    {
        // Pinned: not looked up, so even a repository that is gone answers (the worker reports a missing commit).
        var gone = new GitSource(new SourceDefinition("default", SourceKinds.Git, "/nonexistent/repo"), new RevisionCache(_time, CacheFor), Http);

        var resolved = await gone.ResolveAsync(new string('A', 40), CancellationToken.None);

        Assert.Equal(new PackageSource("git", "/nonexistent/repo", new string('a', 40)), resolved);
    }

    [Fact]
    public async Task ABranchTagIsTheBranchHead()
    {
        await _repo.GitAsync("branch", "old", _first);

        Assert.Equal(_first, (await Source().ResolveAsync("old", CancellationToken.None)).Revision);
        Assert.Equal(_second, (await Source().ResolveAsync("main", CancellationToken.None)).Revision);
    }

    [Fact]
    public async Task AnAnnotatedTagIsTheCommitItPointsAt()
    {
        Assert.Equal(_first, (await Source().ResolveAsync("v1", CancellationToken.None)).Revision);
    }

    [Fact]
    public async Task ALightweightTagIsItsCommit()
    {
        Assert.Equal(_first, (await Source().ResolveAsync("light", CancellationToken.None)).Revision);
    }

    [Fact]
    public async Task ABranchFollowsANewCommitOnlyAfterTheCacheTime()
    {
        var source = Source();
        Assert.Equal(_second, (await source.ResolveAsync("main", CancellationToken.None)).Revision);

        var third = await _repo.CommitSetAsync("three", "third");
        var withinCacheTime = await source.ResolveAsync("main", CancellationToken.None);
        _time.Advance(CacheFor + TimeSpan.FromSeconds(1));
        var afterCacheTime = await source.ResolveAsync("main", CancellationToken.None);

        Assert.Equal(_second, withinCacheTime.Revision);
        Assert.Equal(third, afterCacheTime.Revision);
    }

    [Fact]
    public async Task ATagThatNamesNothingIsManifestUnknownWithTheReason()
    {
        var error = await Assert.ThrowsAsync<RegistryException>(() => Source().ResolveAsync("nosuchbranch", CancellationToken.None));

        Assert.Equal(ErrorCode.ManifestUnknown, error.Code);
        Assert.Equal(
            $"tag 'nosuchbranch' is not a branch or tag of {_repo.Path}; use latest, a branch, a tag or a 40-digit commit",
            error.Message);
    }

    [Fact]
    public async Task ARepositoryThatCannotBeReadIsUnavailableAndNamesTheSource()
    {
        var gone = new GitSource(new SourceDefinition("old", SourceKinds.Git, "/nonexistent/repo"), new RevisionCache(_time, CacheFor), Http);

        var error = await Assert.ThrowsAsync<RegistryException>(() => gone.ResolveAsync("latest", CancellationToken.None));

        Assert.Equal(ErrorCode.Unavailable, error.Code);
        Assert.StartsWith("package source 'old' (/nonexistent/repo) could not be read: git ls-remote -- failed: exit code 128", error.Message, StringComparison.Ordinal);
    }
}
