// The worker's checkout of a package source at a revision, against a real git repository
// and a real tarball: the folder holds exactly that revision, one folder per revision is
// reused, and a revision that cannot be had is a reason, not a wrong build.
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Nixery.Builder.Sources;
using Nixery.Core.Sources;
using Nixery.TestSupport;

namespace Nixery.Builder.Tests.Sources;

public sealed class SourceCheckoutTests : IAsyncLifetime
{
    private readonly TempDir _folder = new();

    private readonly HttpClient _http = new();

    private PackageSetRepo _repo = null!;

    private SourceCheckout _checkout = null!;

    public async Task InitializeAsync()
    {
        _repo = await PackageSetRepo.CreateAsync();
        _checkout = new SourceCheckout(new SourceCheckoutOptions(_folder.Combine("cache")), _http, NullLogger<SourceCheckout>.Instance);
    }

    public Task DisposeAsync()
    {
        _repo.Dispose();
        _folder.Dispose();
        _http.Dispose();
        return Task.CompletedTask;
    }

    private static string MarkerLine(string folder) =>
        File.ReadAllLines(Path.Combine(folder, "default.nix")).Single(l => l.Contains("echo", StringComparison.Ordinal)).Trim();

    [Fact]
    public async Task AGitCheckoutHoldsTheSetAtEachCommit()
    {
        var first = await _repo.CommitSetAsync("one", "first");
        var second = await _repo.CommitSetAsync("two", "second");

        var atFirst = await _checkout.CheckOutAsync(new PackageSource("git", _repo.Path, first), CancellationToken.None);
        var atSecond = await _checkout.CheckOutAsync(new PackageSource("git", _repo.Path, second), CancellationToken.None);

        Assert.Contains("echo one >", MarkerLine(atFirst), StringComparison.Ordinal);
        Assert.Contains("echo two >", MarkerLine(atSecond), StringComparison.Ordinal);
        Assert.NotEqual(atFirst, atSecond);
        Assert.Equal(["default.nix", "nixery.json"], Directory.GetFileSystemEntries(atFirst).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task ASecondCheckoutOfOneRevisionReusesTheFolder()
    {
        var commit = await _repo.CommitSetAsync("one", "first");
        var source = new PackageSource("git", _repo.Path, commit);
        var folder = await _checkout.CheckOutAsync(source, CancellationToken.None);
        // A repository that has gone since: the checkout does not need it any more.
        _repo.Dispose();

        Assert.Equal(folder, await _checkout.CheckOutAsync(source, CancellationToken.None));
    }

    [Fact]
    public async Task ACommitTheRepositoryDoesNotHaveIsAReason()
    {
        await _repo.CommitSetAsync("one", "first");
        var missing = new string('b', 40);

        var error = await Assert.ThrowsAsync<SourceUnavailableException>(() =>
            _checkout.CheckOutAsync(new PackageSource("git", _repo.Path, missing), CancellationToken.None));

        Assert.Equal($"commit {missing} is not in {_repo.Path}", error.Message);
        Assert.Empty(Directory.GetDirectories(_folder.Combine("cache", "tmp")));
    }

    [Fact]
    public async Task ATarballIsUnpackedWithoutItsTopFolderAndCheckedAgainstItsHash()
    {
        var tarball = _folder.Combine("set.tar.gz");
        await PackageSetRepo.WriteTarballAsync(tarball, "one");
        var url = new Uri(tarball).AbsoluteUri;
        var hash = "sha256-" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(tarball)));

        var folder = await _checkout.CheckOutAsync(new PackageSource("channel", url, hash), CancellationToken.None);

        Assert.Contains("echo one >", MarkerLine(folder), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, "nixery.json")));
    }

    [Fact]
    public async Task ATarballThatChangedSinceTheRequestIsAReason()
    {
        var tarball = _folder.Combine("set.tar.gz");
        await PackageSetRepo.WriteTarballAsync(tarball, "one");
        var url = new Uri(tarball).AbsoluteUri;
        var stale = "sha256-" + new string('0', 64);

        var error = await Assert.ThrowsAsync<SourceUnavailableException>(() =>
            _checkout.CheckOutAsync(new PackageSource("channel", url, stale), CancellationToken.None));

        Assert.StartsWith($"{url} changed after the request (revision {stale}, now sha256-", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APathSourceIsItsFolderWhileItsHashIsTheRevision()
    {
        var set = _folder.Combine("set");
        PackageSetRepo.WriteSet(set, "one");
        var revision = PathSource.HashTree(set);

        var folder = await _checkout.CheckOutAsync(new PackageSource("path", set, revision), CancellationToken.None);
        PackageSetRepo.WriteSet(set, "two");
        var error = await Assert.ThrowsAsync<SourceUnavailableException>(() =>
            _checkout.CheckOutAsync(new PackageSource("path", set, revision), CancellationToken.None));

        Assert.Equal(set, folder);
        Assert.StartsWith($"the package set in {set} changed after the request", error.Message, StringComparison.Ordinal);
    }
}
