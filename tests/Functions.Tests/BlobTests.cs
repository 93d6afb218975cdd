// GET and HEAD of blobs streamed from the filesystem backend, with single-range support and
// conditional requests (ETag, If-None-Match, If-Range, If-Match), which the framework's file
// result answers (src/Functions/Registry/StoredContent.cs).
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Nixery.Core.Manifests;

namespace Nixery.Functions.Tests;

public abstract class BlobTests(IRegistryUnderTest fixture)
{
    private string BlobPath => $"/v2/any/name/blobs/{fixture.TenBytesDigest}";

    private Task<HttpResponseMessage> GetRangeAsync(string range, HttpMethod? method = null) =>
        SendAsync(method ?? HttpMethod.Get, ("Range", range));

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, BlobPath);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await fixture.Client.SendAsync(request);
    }

    [Fact]
    public async Task BlobGetReturnsTheExactBytesAndHeaders()
    {
        using var response = await fixture.Client.GetAsync(BlobPath);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(RegistryFixture.TenBytes, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(10, response.Content.Headers.ContentLength);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.ToString());
        Assert.Equal([fixture.TenBytesDigest.ToString()], response.Headers.GetValues("Docker-Content-Digest"));
        Assert.Equal($"\"{fixture.TenBytesDigest}\"", response.Headers.ETag?.Tag);
        Assert.Equal(["bytes"], response.Headers.AcceptRanges);
    }

    [Fact]
    public void BlobDigestIsTheSha256OfTheBytes()
    {
        Assert.Equal(Digest.Sha256(RegistryFixture.TenBytes), fixture.TenBytesDigest);
        Assert.Equal("sha256:84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882", fixture.TenBytesDigest.ToString());
    }

    [Fact]
    public async Task BlobHeadReturnsTheHeadersWithoutBody()
    {
        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, BlobPath));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(10, response.Content.Headers.ContentLength);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.ToString());
        Assert.Equal([fixture.TenBytesDigest.ToString()], response.Headers.GetValues("Docker-Content-Digest"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task BlobIsServedUnderAnyValidName()
    {
        using var response = await fixture.Client.GetAsync($"/v2/shell/git/htop/blobs/{fixture.TenBytesDigest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(RegistryFixture.TenBytes, await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("bytes=0-3", 0, 3, "0123")]
    [InlineData("bytes=5-", 5, 9, "56789")]
    [InlineData("bytes=-4", 6, 9, "6789")]
    [InlineData("bytes=0-0", 0, 0, "0")]
    [InlineData("bytes=9-9", 9, 9, "9")]
    [InlineData("bytes=3-100", 3, 9, "3456789")]
    [InlineData("bytes=-100", 0, 9, "0123456789")]
    [InlineData("bytes=0-9", 0, 9, "0123456789")]
    public async Task BlobRangeIsPartialContent(string range, long from, long to, string expected)
    {
        using var response = await GetRangeAsync(range);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(new ContentRangeHeaderValue(from, to, 10), response.Content.Headers.ContentRange);
        Assert.Equal($"bytes {from}-{to}/10", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(expected.Length, response.Content.Headers.ContentLength);
        Assert.Equal(expected, Encoding.ASCII.GetString(await response.Content.ReadAsByteArrayAsync()));
        Assert.Equal([fixture.TenBytesDigest.ToString()], response.Headers.GetValues("Docker-Content-Digest"));
    }

    [Fact]
    public async Task BlobHeadWithRangeIsPartialContentWithoutBody()
    {
        using var response = await GetRangeAsync("bytes=0-3", HttpMethod.Head);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("bytes 0-3/10", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(4, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task BlobRangeBeyondTheSizeIsRangeInvalid()
    {
        using var response = await GetRangeAsync("bytes=1000-2000");

        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.RequestedRangeNotSatisfiable, "RANGE_INVALID");
        Assert.Equal("bytes */10", response.Content.Headers.ContentRange?.ToString());
        Assert.Contains("10 bytes", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bytes=abc")]
    [InlineData("items=0-1")]
    [InlineData("bytes=5-2")]
    [InlineData("bytes=10-")]
    [InlineData("bytes=-0")]
    [InlineData("bytes=-")]
    [InlineData("bytes=")]
    [InlineData("bytes=1-2-3")]
    [InlineData("bytes=+1-2")]
    [InlineData("bytes=0x1-2")]
    [InlineData("bytes=99999999999999999999-")]
    public async Task MalformedOrUnsatisfiableRangeIsRangeInvalid(string range)
    {
        using var response = await GetRangeAsync(range);

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.RequestedRangeNotSatisfiable, "RANGE_INVALID");
        Assert.Equal("bytes */10", response.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task HeadWithUnsatisfiableRangeIs416WithoutBody()
    {
        using var response = await GetRangeAsync("bytes=1000-2000", HttpMethod.Head);

        await ErrorAssert.HasNoBodyAsync(response, HttpStatusCode.RequestedRangeNotSatisfiable);
    }

    [Theory]
    [InlineData("GET", null, HttpStatusCode.OK)]
    [InlineData("HEAD", null, HttpStatusCode.OK)]
    [InlineData("GET", "bytes=2-4", HttpStatusCode.PartialContent)]
    public async Task ABlobMayBeCachedForAYearAsTheReferenceRegistrySays(string method, string? range, HttpStatusCode status)
    {
        using var response = range is null ? await SendAsync(new HttpMethod(method)) : await GetRangeAsync(range);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("max-age=31536000", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task AnUnsatisfiableRangeIsNotCached()
    {
        using var response = await GetRangeAsync("bytes=1000-2000");

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Null(response.Headers.CacheControl);
    }

    [Fact]
    public Task BlobIfNoneMatchWithItsETagIsNotModifiedWithoutBody() =>
        NotModifiedAssert.IfNoneMatchWithItsETagAsync(fixture.Client, BlobPath, fixture.TenBytesDigest);

    [Fact]
    public async Task BlobIfNoneMatchWithAnotherETagIsTheWholeBlob()
    {
        using var response = await SendAsync(HttpMethod.Get, ("If-None-Match", "\"sha256:0000\""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(RegistryFixture.TenBytes, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task BlobRangeWithAMatchingIfRangeIsPartialContent()
    {
        using var response = await SendAsync(HttpMethod.Get, ("Range", "bytes=2-4"), ("If-Range", $"\"{fixture.TenBytesDigest}\""));

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("bytes 2-4/10", response.Content.Headers.ContentRange?.ToString());
        Assert.Equal("234", Encoding.ASCII.GetString(await response.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task BlobRangeWithAnIfRangeOfAnotherETagIsTheWholeBlob()
    {
        using var response = await SendAsync(HttpMethod.Get, ("Range", "bytes=2-4"), ("If-Range", "\"sha256:0000\""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentRange);
        Assert.Equal(RegistryFixture.TenBytes, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task BlobIfMatchWithAnotherETagIsPreconditionFailedWithTheErrorBody()
    {
        using var response = await SendAsync(HttpMethod.Get, ("If-Match", "\"sha256:0000\""));

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.PreconditionFailed, "PRECONDITION_FAILED");
    }

    [Theory]
    [InlineData("bytes=0-1,3-4")]
    [InlineData("bytes=0-1, 5-")]
    public async Task MultiRangeIsAnsweredWithTheWholeBlob(string range)
    {
        using var response = await GetRangeAsync(range);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentRange);
        Assert.Equal(RegistryFixture.TenBytes, await response.Content.ReadAsByteArrayAsync());
    }
}

[Collection(RegistryCollection.Name)]
public sealed class BlobTestsOnEmbeddedDefault(RegistryFixture fixture) : BlobTests(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class BlobTestsOnFunctionsHost(FunctionsHostFixture fixture) : BlobTests(fixture);
