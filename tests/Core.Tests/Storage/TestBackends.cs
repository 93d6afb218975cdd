// A fresh, empty storage backend per test for the suites that every backend must pass and
// that are about a type on top of the storage rather than the storage itself (the build
// ledger, leases): a suite takes a TestBackend in its constructor, and one subclass per
// backend hands it the filesystem or Azurite. The storage contract's own suite,
// StorageConformanceTests, predates this and makes its backend by overriding instead.
using Nixery.Core.Azure;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Storage;

public abstract class TestBackend : IAsyncDisposable
{
    public abstract Task<IStorageBackend> CreateAsync();

    public abstract ValueTask DisposeAsync();
}

/// <summary>A folder of its own.</summary>
public sealed class FileSystemTestBackend : TestBackend
{
    private readonly TempDir _folder = new("nixery-backend-test");

    public override Task<IStorageBackend> CreateAsync() => Task.FromResult<IStorageBackend>(new FileSystemStorage(_folder.Combine("storage")));

    public override ValueTask DisposeAsync()
    {
        _folder.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A container of its own on the test class's Azurite.</summary>
public sealed class AzuriteTestBackend(AzureBlobFixture azurite) : TestBackend
{
    private readonly global::Azure.Storage.Blobs.BlobContainerClient _container = azurite.NewContainer();

    public override async Task<IStorageBackend> CreateAsync() =>
        await AzureBlobStorage.CreateAsync(_container, TimeSpan.FromMinutes(10), CancellationToken.None);

    public override async ValueTask DisposeAsync() => await _container.DeleteIfExistsAsync();
}
