// The Azure Blob backend on Azurite against the shared storage contract: one Azurite per
// test class, a fresh container per test. Azure-only behaviour (SAS URLs, block uploads)
// is in AzureBlobStorageTests.
using Azure.Storage.Blobs;
using Nixery.Core.Storage;
using Nixery.Core.Storage.Azure;

namespace Nixery.Core.Tests.Storage;

public sealed class AzureBlobStorageConformanceTests(AzureBlobFixture azurite) : StorageConformanceTests, IClassFixture<AzureBlobFixture>
{
    private readonly BlobContainerClient _container = azurite.NewContainer();

    protected override bool ServesRedirectUrls => true;

    protected override async Task<IStorageBackend> CreateBackendAsync() =>
        await AzureBlobStorage.CreateAsync(_container, TimeSpan.FromMinutes(10), CancellationToken.None);

    protected override Task DestroyBackendAsync() => _container.DeleteIfExistsAsync();

    [Fact]
    public void AzureBackendIsNamedAzureBlob()
    {
        Assert.Equal("azure-blob", Backend.Name);
    }

    [Fact]
    public async Task CreatingTheBackendCreatesItsContainer()
    {
        Assert.True((await _container.ExistsAsync()).Value);
    }
}
