// A manifest asked for by digest is served from its blob, with its own media type, under
// any valid name; a blob that is not a manifest is MANIFEST_UNKNOWN.
using System.Net;
using System.Text;
using Nixery.Core.Manifests;

namespace Nixery.Functions.Tests;

public abstract class ManifestByDigestTests(IRegistryUnderTest fixture)
{
    [Fact]
    public async Task ManifestByDigestReturnsItsBytesMediaTypeAndDigest()
    {
        using var response = await fixture.Client.GetAsync($"/v2/hello/manifests/{fixture.ManifestDigest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", response.Content.Headers.ContentType?.ToString());
        Assert.Equal([fixture.ManifestDigest.ToString()], response.Headers.GetValues("Docker-Content-Digest"));
        Assert.Equal(RegistryFixture.ManifestJson, await response.Content.ReadAsStringAsync());
        Assert.Equal(Encoding.UTF8.GetByteCount(RegistryFixture.ManifestJson), response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task ManifestByDigestHeadReturnsHeadersWithoutBody()
    {
        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/shell/git/manifests/{fixture.ManifestDigest}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", response.Content.Headers.ContentType?.ToString());
        Assert.Equal([fixture.ManifestDigest.ToString()], response.Headers.GetValues("Docker-Content-Digest"));
        Assert.Equal(Encoding.UTF8.GetByteCount(RegistryFixture.ManifestJson), response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public Task ManifestByDigestIfNoneMatchWithItsETagIsNotModifiedWithoutBody() =>
        NotModifiedAssert.IfNoneMatchWithItsETagAsync(fixture.Client, $"/v2/hello/manifests/{fixture.ManifestDigest}", fixture.ManifestDigest);

    [Fact]
    public async Task ManifestByDigestIsSentWholeWhateverTheRange()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/hello/manifests/{fixture.ManifestDigest}");
        request.Headers.TryAddWithoutValidation("Range", "bytes=0-3");

        using var response = await fixture.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(RegistryFixture.ManifestJson, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NonManifestBlobAskedForAsManifestIsManifestUnknown()
    {
        using var response = await fixture.Client.GetAsync($"/v2/hello/manifests/{fixture.TenBytesDigest}");

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Theory]
    [InlineData("{\"schemaVersion\":2}")]
    [InlineData("{\"mediaType\":\"application/vnd.docker.container.image.v1+json\"}")]
    [InlineData("[\"application/vnd.docker.distribution.manifest.v2+json\"]")]
    [InlineData("{\"mediaType\":5}")]
    [InlineData("{\"mediaType\":null}")]
    [InlineData("{\"mediaType\":{\"x\":1}}")]
    [InlineData("{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\"")]
    public async Task JsonBlobThatIsNoManifestIsManifestUnknown(string json)
    {
        var digest = await fixture.Store.PutBlobAsync(Encoding.UTF8.GetBytes(json), MediaTypes.OctetStream, CancellationToken.None);

        using var response = await fixture.Client.GetAsync($"/v2/hello/manifests/{digest}");

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task OciManifestByDigestKeepsItsOwnMediaType()
    {
        var json = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{},\"layers\":[]}";
        var digest = await fixture.Store.PutBlobAsync(Encoding.UTF8.GetBytes(json), MediaTypes.OciManifest, CancellationToken.None);

        using var response = await fixture.Client.GetAsync($"/v2/hello/manifests/{digest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", response.Content.Headers.ContentType?.ToString());
    }

    [Fact]
    public async Task BlobOfARepositoryNamedManifestsIsABlobRequest()
    {
        // "manifests" is a valid name component; the path's last marker decides
        // (RegistryPath's own comment), so this asks for a blob of the repository
        // "foo/manifests", not for a manifest of "foo" with reference "blobs/sha256:…".
        using var response = await fixture.Client.GetAsync($"/v2/foo/manifests/blobs/{fixture.TenBytesDigest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(RegistryFixture.TenBytes, await response.Content.ReadAsByteArrayAsync());
    }
}

[Collection(RegistryCollection.Name)]
public sealed class ManifestByDigestTestsOnEmbeddedDefault(RegistryFixture fixture) : ManifestByDigestTests(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class ManifestByDigestTestsOnFunctionsHost(FunctionsHostFixture fixture) : ManifestByDigestTests(fixture);
