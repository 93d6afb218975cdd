// The filesystem backend against the shared storage contract, plus what only a folder on
// disk can get wrong: paths that would escape the root.
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Storage;

public sealed class FileSystemStorageConformanceTests : StorageConformanceTests
{
    private readonly TempDir _folder = new();

    protected override bool ServesRedirectUrls => false;

    protected override Task<IStorageBackend> CreateBackendAsync() =>
        Task.FromResult<IStorageBackend>(new FileSystemStorage(_folder.Combine("storage")));

    protected override Task DestroyBackendAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public void FileSystemBackendIsNamedFilesystem()
    {
        Assert.Equal("filesystem", Backend.Name);
    }

    [Fact]
    public async Task ACreateLeavesNoLockFileBesideTheObjectAndTwentyRacingCreatesStillHaveOneWinner()
    {
        var wins = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Task.Run(() => Backend.TryCreateAsync("blobs/sha256/ab", new byte[] { (byte)i }, null, CancellationToken.None))));

        Assert.Single(wins, won => won);
        Assert.Equal([_folder.Combine("storage", "blobs", "sha256", "ab")], Directory.GetFiles(_folder.Combine("storage", "blobs", "sha256")));
        Assert.Empty(Directory.GetFiles(_folder.Combine("storage", "staging")));
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("blobs/../../outside")]
    [InlineData("/etc/passwd")]
    public async Task FileSystemBackendRefusesPathsOutsideItsRoot(string path)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.StatAsync(path, CancellationToken.None));
    }

    [Fact]
    public async Task FileSystemBackendRefusesASiblingFolderThatSharesTheRootsPrefix()
    {
        // Root is <tmp>/storage; <tmp>/storage-evil starts with the same characters.
        Directory.CreateDirectory(_folder.Combine("storage-evil"));
        await File.WriteAllTextAsync(_folder.Combine("storage-evil", "secret"), "secret");

        await Assert.ThrowsAsync<ArgumentException>(() => Backend.StatAsync("../storage-evil/secret", CancellationToken.None));
    }
}
