// The Azure Blob backend on Azurite against the shared storage contract: one Azurite per
// test class, a fresh container per test. Azure-only behaviour (SAS URLs, block uploads)
// is in AzureBlobStorageTests.
using Azure.Storage.Blobs;
using Nixery.Core.Storage;
using Nixery.Core.Azure;

namespace Nixery.Core.Tests.Storage;

/// <summary>The contract on one fresh container, however its client authenticates.</summary>
public abstract class AzureBlobConformanceTests(BlobContainerClient container) : StorageConformanceTests
{
    protected BlobContainerClient Container => container;

    protected override bool ServesRedirectUrls => true;

    protected override async Task<IStorageBackend> CreateBackendAsync() =>
        await AzureBlobStorage.CreateAsync(container, TimeSpan.FromMinutes(10), CancellationToken.None);

    protected override Task DestroyBackendAsync() => container.DeleteIfExistsAsync();
}

/// <summary>With the account key, as a connection string gives it.</summary>
public sealed class AzureBlobStorageConformanceTests(AzureBlobFixture azurite)
    : AzureBlobConformanceTests(azurite.NewContainer()), IClassFixture<AzureBlobFixture>
{

    [Fact]
    public void AzureBackendIsNamedAzureBlob()
    {
        Assert.Equal("azure-blob", Backend.Name);
    }

    [Fact]
    public async Task CreatingTheBackendCreatesItsContainer()
    {
        Assert.True((await Container.ExistsAsync()).Value);
    }
}
