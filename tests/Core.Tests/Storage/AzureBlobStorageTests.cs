// What only the Azure Blob backend does, on Azurite: redirect URLs that are read-only SAS
// URLs for one blob, fetched over plain HTTP as a registry client would; streamed uploads
// that go up in blocks and commit by a server-side copy.
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Web;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Sas;
using BlobProperties = Nixery.Core.Storage.BlobProperties;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Storage;
using Nixery.Core.Azure;

namespace Nixery.Core.Tests.Storage;

public sealed class AzureBlobStorageTests(AzureBlobFixture azurite) : IClassFixture<AzureBlobFixture>, IAsyncLifetime
{
    private const string ManifestType = "application/vnd.oci.image.manifest.v1+json";

    private static readonly TimeSpan SasExpiry = TimeSpan.FromMinutes(7);

    // A fixed "now" (the real one, to the second) so that the SAS times can be compared exactly
    // while the URL is still valid for Azurite's real clock.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    private readonly BlobContainerClient _container = azurite.NewContainer();
    private AzureBlobStorage? _backend;

    private AzureBlobStorage Backend => _backend ?? throw new InvalidOperationException("not initialised");

    private static CancellationToken Ct => CancellationToken.None;

    public async Task InitializeAsync() => _backend = await AzureBlobStorage.CreateAsync(_container, SasExpiry, Ct, _time);

    public Task DisposeAsync() => _container.DeleteIfExistsAsync();

    [Fact]
    public async Task RedirectUrlIsAReadOnlySasForThatBlobOnTheBlobEndpoint()
    {
        await Backend.WriteAsync("blobs/sha256/abc", new MemoryStream("{}"u8.ToArray()), "application/octet-stream", Ct);

        var url = await Backend.GetRedirectUrlAsync("blobs/sha256/abc", ManifestType, Ct);

        Assert.NotNull(url);
        Assert.Equal($"http://127.0.0.1:{azurite.BlobPort}/{AzureBlobFixture.AccountName}/{_container.Name}/blobs/sha256/abc", url.GetLeftPart(UriPartial.Path));
        var query = HttpUtility.ParseQueryString(url.Query);
        Assert.Equal("r", query["sp"]);
        Assert.Equal("b", query["sr"]);
        Assert.Equal(ManifestType, query["rsct"]);
        Assert.Equal(_time.GetUtcNow() + SasExpiry, DateTimeOffset.Parse(query["se"]!, CultureInfo.InvariantCulture));
        Assert.Equal(_time.GetUtcNow() - TimeSpan.FromMinutes(5), DateTimeOffset.Parse(query["st"]!, CultureInfo.InvariantCulture));
        Assert.False(string.IsNullOrEmpty(query["sig"]));
    }

    [Fact]
    public async Task RedirectUrlServesExactlyTheBlobWithTheRequestedContentType()
    {
        var content = Encoding.UTF8.GetBytes("{\"schemaVersion\":2}");
        // Stored with another type: the URL's rsct decides what the client is told.
        await Backend.WriteAsync("blobs/sha256/m", new MemoryStream(content), "application/octet-stream", Ct);
        var url = await Backend.GetRedirectUrlAsync("blobs/sha256/m", ManifestType, Ct);

        using var http = new HttpClient();
        using var response = await http.GetAsync(url, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ManifestType, response.Content.Headers.ContentType?.ToString());
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task RedirectUrlWithATamperedSignatureIsForbidden()
    {
        await Backend.WriteAsync("blobs/sha256/t", new MemoryStream("secret"u8.ToArray()), null, Ct);
        var url = (await Backend.GetRedirectUrlAsync("blobs/sha256/t", "application/octet-stream", Ct))!;
        var query = HttpUtility.ParseQueryString(url.Query);
        var signature = Convert.FromBase64String(query["sig"]!);
        signature[0] ^= 0xff;
        query["sig"] = Convert.ToBase64String(signature);
        var tampered = new UriBuilder(url) { Query = query.ToString() }.Uri;

        using var http = new HttpClient();
        using var response = await http.GetAsync(tampered, Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task RedirectUrlCannotWrite()
    {
        await Backend.WriteAsync("blobs/sha256/w", new MemoryStream("original"u8.ToArray()), null, Ct);
        var url = (await Backend.GetRedirectUrlAsync("blobs/sha256/w", "application/octet-stream", Ct))!;

        using var http = new HttpClient();
        using var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent("replaced"u8.ToArray()) };
        put.Headers.Add("x-ms-blob-type", "BlockBlob");
        using var response = await http.SendAsync(put, Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("original", (await _container.GetBlobClient("blobs/sha256/w").DownloadContentAsync(Ct)).Value.Content.ToString());
    }

    [Fact]
    public async Task RedirectUrlThroughASasConnectionStringIsNullStreamItYourself()
    {
        var account = new BlobServiceClient(azurite.ConnectionString);
        var sas = account.GenerateAccountSasUri(AccountSasPermissions.All, _time.GetUtcNow().AddHours(1), AccountSasResourceTypes.All);
        var backend = await AzureBlobStorage.CreateAsync(new BlobServiceClient(sas).GetBlobContainerClient(_container.Name), SasExpiry, Ct, _time);
        await backend.WriteAsync("blobs/sha256/s", new MemoryStream("x"u8.ToArray()), null, Ct);

        Assert.Null(await backend.GetRedirectUrlAsync("blobs/sha256/s", "application/octet-stream", Ct));
    }

    [Fact]
    public async Task LargeStagedUploadGoesUpInBlocksAndCommitsWithTheSameSha256()
    {
        const int size = 40 * 1024 * 1024;
        var content = new byte[size];
        new Random(3).NextBytes(content);

        await using (var upload = await Backend.BeginStagedUploadAsync(Ct))
        {
            for (var offset = 0; offset < size; offset += 1 << 20)
            {
                await upload.Content.WriteAsync(content.AsMemory(offset, 1 << 20), Ct);
            }

            // Before the commit the bytes are blocks of the staging blob, not one buffer here.
            var staging = Assert.Single(await ListRawAsync(StorageLayout.StagingPrefix));
            var blocks = (await _container.GetBlockBlobClient(staging).GetBlockListAsync(BlockListTypes.Uncommitted, cancellationToken: Ct)).Value;
            Assert.True(blocks.UncommittedBlocks.Count() >= 4, $"{blocks.UncommittedBlocks.Count()} uncommitted blocks for {size} bytes");

            await upload.CommitAsync("blobs/sha256/large", "application/vnd.oci.image.layer.v1.tar+gzip", Ct);
        }

        var props = await Backend.StatAsync("blobs/sha256/large", Ct);
        Assert.Equal(new BlobProperties(size, "application/vnd.oci.image.layer.v1.tar+gzip", props!.ETag), props);
        await using var stream = await Backend.OpenReadAsync("blobs/sha256/large", Ct);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), Convert.ToHexStringLower(await SHA256.HashDataAsync(stream!, Ct)));
        Assert.Empty(await ListRawAsync(StorageLayout.StagingPrefix));
    }

    [Fact]
    public async Task StagedUploadInFlightIsInvisibleToListingSoTheSweeperCannotDeleteIt()
    {
        var content = new byte[20 * 1024 * 1024];
        new Random(9).NextBytes(content);
        await using (var upload = await Backend.BeginStagedUploadAsync(Ct))
        {
            await upload.Content.WriteAsync(content, Ct);

            // Blocks are on the service, under staging/, but not a blob that List shows.
            Assert.Single(await ListRawAsync(StorageLayout.StagingPrefix));
            Assert.Empty(await ToListAsync(Backend.ListAsync(StorageLayout.StagingPrefix, Ct)));

            await upload.CommitAsync("blobs/sha256/long", null, Ct);
        }

        await using var stream = await Backend.OpenReadAsync("blobs/sha256/long", Ct);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), Convert.ToHexStringLower(await SHA256.HashDataAsync(stream!, Ct)));
    }

    [Fact]
    public async Task AbandonedStagedUploadLeavesNoBlobUnderStagingNotEvenUncommittedBlocks()
    {
        await using (var upload = await Backend.BeginStagedUploadAsync(Ct))
        {
            await upload.Content.WriteAsync(new byte[20 * 1024 * 1024], Ct);
            Assert.Single(await ListRawAsync(StorageLayout.StagingPrefix));
        }

        Assert.Empty(await ListRawAsync(StorageLayout.StagingPrefix));
        Assert.Empty(await ListRawAsync(""));
    }

    [Fact]
    public async Task CommitOntoAnExistingBlobKeepsItAndRemovesTheStagingBlob()
    {
        await Backend.WriteAsync("blobs/sha256/same", new MemoryStream("same bytes"u8.ToArray()), "application/octet-stream", Ct);
        var before = (await Backend.StatAsync("blobs/sha256/same", Ct))!;

        await using (var upload = await Backend.BeginStagedUploadAsync(Ct))
        {
            await upload.Content.WriteAsync("same bytes"u8.ToArray(), Ct);
            await upload.CommitAsync("blobs/sha256/same", "application/octet-stream", Ct);
        }

        Assert.Equal(before, await Backend.StatAsync("blobs/sha256/same", Ct));
        Assert.Empty(await ListRawAsync(StorageLayout.StagingPrefix));
    }

    [Fact]
    public async Task EmptyStagedUploadCommitsAnEmptyBlob()
    {
        await using (var upload = await Backend.BeginStagedUploadAsync(Ct))
        {
            await upload.CommitAsync("blobs/sha256/empty", "application/octet-stream", Ct);
        }

        var props = await Backend.StatAsync("blobs/sha256/empty", Ct);
        Assert.Equal(new BlobProperties(0, "application/octet-stream", props!.ETag), props);
        Assert.Empty(await ListRawAsync(StorageLayout.StagingPrefix));
    }

    [Fact]
    public async Task ConcurrentCommitsOfTheSameContentLeaveOneBlobAndNoStaging()
    {
        var content = new byte[9 * 1024 * 1024];
        new Random(11).NextBytes(content);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            await using var upload = await Backend.BeginStagedUploadAsync(Ct);
            await upload.Content.WriteAsync(content, Ct);
            await upload.CommitAsync("blobs/sha256/raced", "application/octet-stream", Ct);
        }));

        await using var stream = await Backend.OpenReadAsync("blobs/sha256/raced", Ct);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), Convert.ToHexStringLower(await SHA256.HashDataAsync(stream!, Ct)));
        Assert.Equal(["blobs/sha256/raced"], await ListRawAsync(""));
    }

    [Fact]
    public async Task StatGivesTheContentTypeAndTheServicesETag()
    {
        await Backend.WriteAsync("images/a.json", new MemoryStream("{}"u8.ToArray()), "application/json", Ct);
        var service = (await _container.GetBlobClient("images/a.json").GetPropertiesAsync(cancellationToken: Ct)).Value;

        Assert.Equal(new BlobProperties(2, "application/json", service.ETag.ToString()), await Backend.StatAsync("images/a.json", Ct));
    }

    [Fact]
    public async Task OpenReadGivesASeekableStream()
    {
        var content = new byte[3 * 1024 * 1024];
        new Random(5).NextBytes(content);
        await Backend.WriteAsync("blobs/sha256/seek", new MemoryStream(content), null, Ct);

        await using var stream = (await Backend.OpenReadAsync("blobs/sha256/seek", Ct))!;
        Assert.True(stream.CanSeek);
        Assert.Equal(content.Length, stream.Length);
        stream.Seek(2 * 1024 * 1024 + 17, SeekOrigin.Begin);
        var tail = new byte[100];
        await stream.ReadExactlyAsync(tail, Ct);

        Assert.Equal(content.AsSpan(2 * 1024 * 1024 + 17, 100).ToArray(), tail);
    }

    [Fact]
    public async Task CreatingTheBackendTwiceOnOneContainerIsFine()
    {
        var again = await AzureBlobStorage.CreateAsync(_container, SasExpiry, Ct);

        Assert.Equal("azure-blob", again.Name);
        Assert.True((await _container.ExistsAsync(Ct)).Value);
    }

    /// <summary>Blob names as the service has them, uncommitted blobs included, bypassing the backend.</summary>
    private async Task<List<string>> ListRawAsync(string prefix)
    {
        var names = new List<string>();
        await foreach (var item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.Uncommitted, prefix, Ct))
        {
            names.Add(item.Name);
        }

        return names;
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}
