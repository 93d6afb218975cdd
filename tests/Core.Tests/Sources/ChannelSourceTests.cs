// The channel source offline: a file:// tarball stands for a channel; its revision is the
// hash of its bytes and follows a replaced file after the cache time. A channel name with a
// commit tag pins that nixpkgs commit without a lookup.
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Errors;
using Nixery.Core.Queue;
using Nixery.Core.Sources;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Sources;

public sealed class ChannelSourceTests : IDisposable
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(60);

    private readonly FakeTimeProvider _time = new();

    private readonly TempDir _folder = new();

    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _folder.Dispose();
        _http.Dispose();
    }

    private ChannelSource Source(string location) =>
        new(new SourceDefinition("default", SourceKinds.Channel, location), new RevisionCache(_time, CacheFor), _http);

    private static string Sha256Of(string file) => "sha256-" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));

    [Fact]
    public async Task AFileTarballIsRevisionedByTheHashOfItsBytes()
    {
        var tarball = _folder.Combine("set.tar.gz");
        await PackageSetRepo.WriteTarballAsync(tarball, "one");
        var url = new Uri(tarball).AbsoluteUri;

        var resolved = await Source(url).ResolveAsync("latest", CancellationToken.None);

        Assert.Equal(new PackageSource("channel", url, Sha256Of(tarball)), resolved);
    }

    [Fact]
    public async Task AReplacedTarballGivesANewRevisionAfterTheCacheTime()
    {
        var tarball = _folder.Combine("set.tar.gz");
        await PackageSetRepo.WriteTarballAsync(tarball, "one");
        var source = Source(new Uri(tarball).AbsoluteUri);
        var before = await source.ResolveAsync("latest", CancellationToken.None);

        await PackageSetRepo.WriteTarballAsync(tarball, "two");
        var withinCacheTime = await source.ResolveAsync("latest", CancellationToken.None);
        _time.Advance(CacheFor + TimeSpan.FromSeconds(1));
        var afterCacheTime = await source.ResolveAsync("latest", CancellationToken.None);

        Assert.Equal(before, withinCacheTime);
        Assert.Equal(Sha256Of(tarball), afterCacheTime.Revision);
        Assert.NotEqual(before.Revision, afterCacheTime.Revision);
    }

    [Fact]
    public async Task AChannelNameWithACommitTagIsThatNixpkgsCommit()
    {
        var commit = "0123456789abcdef0123456789abcdef01234567";

        var resolved = await Source("nixos-24.05").ResolveAsync(commit, CancellationToken.None);

        Assert.Equal(new PackageSource("channel", $"https://github.com/NixOS/nixpkgs/archive/{commit}.tar.gz", commit), resolved);
    }

    [Fact]
    public async Task AMissingTarballIsUnavailableAndNamesTheSource()
    {
        var url = new Uri(_folder.Combine("gone.tar.gz")).AbsoluteUri;

        var error = await Assert.ThrowsAsync<RegistryException>(() => Source(url).ResolveAsync("latest", CancellationToken.None));

        Assert.Equal(ErrorCode.Unavailable, error.Code);
        Assert.StartsWith($"package source 'default' (channel {url}) could not be read: {url} could not be read:", error.Message, StringComparison.Ordinal);
    }
}
