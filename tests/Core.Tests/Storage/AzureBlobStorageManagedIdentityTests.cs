// The Azure Blob backend as a managed identity uses it: a bearer token, no account key.
// Azurite over HTTPS with OAuth stands in for Azure (AzureBlobOAuthFixture). The whole
// storage contract runs this way too (the conformance subclass below), since the server-side
// copy of a staged upload is then authorised by the token rather than a key.
using System.Globalization;
using System.Net;
using System.Text;
using System.Web;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Storage;
using Nixery.Core.Azure;

namespace Nixery.Core.Tests.Storage;

public sealed class AzureBlobStorageManagedIdentityConformanceTests(AzureBlobOAuthFixture azurite)
    : AzureBlobConformanceTests(azurite.NewContainerWithToken()), IClassFixture<AzureBlobOAuthFixture>;

public sealed class AzureBlobStorageManagedIdentityTests(AzureBlobOAuthFixture azurite) : IClassFixture<AzureBlobOAuthFixture>, IAsyncLifetime
{
    private const string LayerType = "application/vnd.oci.image.layer.v1.tar+gzip";

    private static readonly TimeSpan SasExpiry = TimeSpan.FromMinutes(10);

    // The real time to the second, moved only by the test: SAS times compare exactly and the
    // URLs still hold for Azurite's clock.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    private readonly CountingPolicy _requests = new();
    private BlobContainerClient? _container;
    private AzureBlobStorage? _backend;

    private AzureBlobStorage Backend => _backend ?? throw new InvalidOperationException("not initialised");

    private BlobContainerClient Container => _container ?? throw new InvalidOperationException("not initialised");

    private static CancellationToken Ct => CancellationToken.None;

    public async Task InitializeAsync()
    {
        _container = azurite.NewContainerWithToken(_requests);
        _backend = await AzureBlobStorage.CreateAsync(_container, SasExpiry, Ct, _time);
    }

    public Task DisposeAsync() => Container.DeleteIfExistsAsync();

    [Fact]
    public void ATokenClientHasNoKeyToSignWith()
    {
        Assert.False(Container.CanGenerateSasUri);
    }

    [Fact]
    public async Task RedirectUrlIsAUserDelegationSasForReadingThatBlob()
    {
        await Backend.WriteAsync("blobs/sha256/l", new MemoryStream("layer"u8.ToArray()), null, Ct);

        var url = (await Backend.GetRedirectUrlAsync("blobs/sha256/l", LayerType, Ct))!;

        Assert.Equal($"https://127.0.0.1:{azurite.BlobPort}/{AzureBlobFixture.AccountName}/{Container.Name}/blobs/sha256/l", url.GetLeftPart(UriPartial.Path));
        var query = HttpUtility.ParseQueryString(url.Query);
        Assert.Equal("r", query["sp"]);
        Assert.Equal("b", query["sr"]);
        Assert.Equal("https", query["spr"]);
        Assert.Equal(LayerType, query["rsct"]);
        Assert.Equal(UnsignedEntraToken.ObjectId, query["skoid"]);
        Assert.Equal(UnsignedEntraToken.TenantId, query["sktid"]);
        Assert.Equal(_time.GetUtcNow() + SasExpiry, DateTimeOffset.Parse(query["se"]!, CultureInfo.InvariantCulture));
        Assert.Equal(_time.GetUtcNow() - TimeSpan.FromMinutes(5), DateTimeOffset.Parse(query["st"]!, CultureInfo.InvariantCulture));
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromDays(2), DateTimeOffset.Parse(query["ske"]!, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task UserDelegationRedirectUrlServesTheBlobAndATamperedOneIsForbidden()
    {
        var content = Encoding.UTF8.GetBytes("layer bytes");
        await Backend.WriteAsync("blobs/sha256/g", new MemoryStream(content), "application/octet-stream", Ct);
        var url = (await Backend.GetRedirectUrlAsync("blobs/sha256/g", LayerType, Ct))!;
        var query = HttpUtility.ParseQueryString(url.Query);
        var signature = Convert.FromBase64String(query["sig"]!);
        signature[0] ^= 0xff;
        query["sig"] = Convert.ToBase64String(signature);
        var tampered = new UriBuilder(url) { Query = query.ToString() }.Uri;

        using var http = azurite.NewHttpClient();
        using var response = await http.GetAsync(url, Ct);
        using var forbidden = await http.GetAsync(tampered, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(LayerType, response.Content.Headers.ContentType?.ToString());
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }

    [Fact]
    public async Task DelegationKeyIsFetchedOnceAndRenewedOnlyWhenItNearsItsExpiry()
    {
        await Backend.GetRedirectUrlAsync("blobs/sha256/a", LayerType, Ct);
        await Backend.GetRedirectUrlAsync("blobs/sha256/b", LayerType, Ct);
        _time.Advance(TimeSpan.FromHours(6));
        await Backend.GetRedirectUrlAsync("blobs/sha256/c", LayerType, Ct);
        Assert.Equal(1, _requests.DelegationKeyRequests);

        // Two-day key: 36 h on, 12 h are left, less than a SAS's life plus the 12 h margin.
        _time.Advance(TimeSpan.FromHours(30));
        await Backend.GetRedirectUrlAsync("blobs/sha256/d", LayerType, Ct);
        Assert.Equal(2, _requests.DelegationKeyRequests);
    }

    [Fact]
    public async Task StagedUploadCommitsByACopyTheTokenAuthorises()
    {
        var content = new byte[9 * 1024 * 1024];
        new Random(13).NextBytes(content);
        await using (var upload = await Backend.BeginStagedUploadAsync(Ct))
        {
            await upload.Content.WriteAsync(content, Ct);
            await upload.CommitAsync("blobs/sha256/copied", LayerType, Ct);
        }

        Assert.Equal(content, (await Container.GetBlobClient("blobs/sha256/copied").DownloadContentAsync(Ct)).Value.Content.ToArray());
        Assert.Equal(LayerType, (await Backend.StatAsync("blobs/sha256/copied", Ct))!.ContentType);
    }


    /// <summary>Counts Get User Delegation Key requests (POST ?restype=service&amp;comp=userdelegationkey).</summary>
    private sealed class CountingPolicy : HttpPipelineSynchronousPolicy
    {
        private int _delegationKeyRequests;

        public int DelegationKeyRequests => Volatile.Read(ref _delegationKeyRequests);

        public override void OnSendingRequest(HttpMessage message)
        {
            if (message.Request.Uri.Query.Contains("comp=userdelegationkey", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _delegationKeyRequests);
            }
        }
    }
}
