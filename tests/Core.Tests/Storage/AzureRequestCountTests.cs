// What the Azure backend's calls cost in HTTP requests, on Azurite (issue 16, point 5): every
// request the SDK sends is recorded by a pipeline policy after its retry policy, so a retry
// would show. A layer smaller than one block is one Put Blob at its final name; a larger one
// is its blocks, the block list, the copy and the staging delete, with no existence check; a
// lease is taken with one request (the ETag comes with the write) and released with one; a
// small blob that is already there costs its one refused create.
using Azure.Core;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;
using Nixery.Core.Azure;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Storage;

public sealed class AzureRequestCountTests(AzureBlobFixture azurite) : IClassFixture<AzureBlobFixture>, IAsyncLifetime
{
    private readonly AzureRequestLog _log = new();
    private BlobContainerClient? _container;
    private AzureBlobStorage? _backend;

    private static CancellationToken Ct => CancellationToken.None;

    private AzureBlobStorage Backend => _backend ?? throw new InvalidOperationException("not initialised");

    public async Task InitializeAsync()
    {
        var options = new BlobClientOptions();
        options.AddPolicy(_log, HttpPipelinePosition.PerRetry);
        _container = new BlobContainerClient(azurite.ConnectionString, "t" + Guid.NewGuid().ToString("N"), options);
        _backend = await AzureBlobStorage.CreateAsync(_container, TimeSpan.FromMinutes(5), Ct);
        _log.Take();
    }

    public Task DisposeAsync() => _container!.DeleteIfExistsAsync();

    [Fact]
    public async Task ALayerSmallerThanABlockIsOnePutAtItsFinalName()
    {
        await using (var upload = await Backend.BeginStagedUploadAsync(Ct))
        {
            await upload.Content.WriteAsync(new byte[100_000], Ct);
            await upload.CommitAsync("blobs/sha256/small", MediaTypes.DockerLayerGzip, Ct);
        }

        Assert.Equal(["PUT blobs/sha256/small"], _log.Take());
        Assert.Equal((100_000L, MediaTypes.DockerLayerGzip), await SizeAndTypeAsync("blobs/sha256/small"));
    }

    [Fact]
    public async Task ALargerLayerIsItsBlocksTheListTheCopyAndTheStagingDeleteWithoutAnExistenceCheck()
    {
        await using (var upload = await Backend.BeginStagedUploadAsync(Ct))
        {
            await upload.Content.WriteAsync(new byte[(8 * 1024 * 1024) + 1], Ct);
            await upload.CommitAsync("blobs/sha256/large", MediaTypes.DockerLayerGzip, Ct);
        }

        Assert.Equal(
            ["PUT staging comp=block", "PUT staging comp=block", "PUT staging comp=blocklist", "PUT blobs/sha256/large", "DELETE staging"],
            _log.Take());
        Assert.Equal(((8L * 1024 * 1024) + 1, MediaTypes.DockerLayerGzip), await SizeAndTypeAsync("blobs/sha256/large"));
    }

    [Fact]
    public async Task ALeaseIsTakenWithOneRequestAndReleasedWithOne()
    {
        var leases = new StorageLeases(Backend, TimeProvider.System, NullLogger<StorageLease>.Instance);
        await using (var lease = await leases.TryAcquireAsync("layers/k.lease", "worker-1", TimeSpan.FromMinutes(2), Ct))
        {
            Assert.NotNull(lease);
            Assert.Equal(["PUT layers/k.lease"], _log.Take());
        }

        Assert.Equal(["DELETE layers/k.lease"], _log.Take());
        Assert.Null(await Backend.StatAsync("layers/k.lease", Ct));
    }

    [Fact]
    public async Task ASmallBlobIsOneCreateWhetherOrNotItIsThere()
    {
        var store = new RegistryStore(Backend);
        var first = await store.PutBlobAsync("{}"u8.ToArray(), MediaTypes.OciEmpty, Ct);
        var second = await store.PutBlobAsync("{}"u8.ToArray(), MediaTypes.OciEmpty, Ct);

        Assert.Equal(first, second);
        var path = StorageLayout.Blob(first);
        Assert.Equal([$"PUT {path}", $"PUT {path}"], _log.Take());
    }

    private async Task<(long, string?)> SizeAndTypeAsync(string path)
    {
        var props = (await _container!.GetBlobClient(path).GetPropertiesAsync(cancellationToken: Ct)).Value;
        return (props.ContentLength, props.ContentType);
    }
}
