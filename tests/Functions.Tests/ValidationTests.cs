// Names, tags and digests are checked against the spec's grammar before any lookup:
// 400 NAME_INVALID / TAG_INVALID / DIGEST_INVALID with the registry error body.
using System.Net;

namespace Nixery.Functions.Tests;

public abstract class ValidationTests(IRegistryUnderTest fixture)
{
    private const string Hex64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public static TheoryData<string> BadNames => new()
    {
        "Shell",
        "shell/Git",
        "a..b",
        "-x",
        "x-",
        "a%2F%2Fb",
        "h%C3%A9llo",
        new string('a', 300),
        string.Join('/', Enumerable.Repeat("abcdefgh", 29)),
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task BadNameInManifestPathIsNameInvalid(string name)
    {
        using var response = await fixture.Client.GetAsync($"/v2/{name}/manifests/latest");

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.BadRequest, "NAME_INVALID");
    }

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task BadNameInBlobPathIsNameInvalid(string name)
    {
        using var response = await fixture.Client.GetAsync($"/v2/{name}/blobs/sha256:{Hex64}");

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.BadRequest, "NAME_INVALID");
    }

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task HeadOfBadNameIsNameInvalidWithoutBody(string name)
    {
        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{name}/manifests/latest"));

        await ErrorAssert.HasNoBodyAsync(response, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("/v2/a%00b/manifests/latest")]
    [InlineData("/v2/hello/manifests/latest%00")]
    [InlineData("/v2/hello/blobs/sha256:%00")]
    public async Task NullByteInPathIsRejectedWith400(string path)
    {
        // Kestrel refuses a path that decodes to a NUL before routing, so this 400 comes
        // without the registry error body; what matters is that it is a 400, not a lookup.
        var response = await RawHttp.SendAsync(fixture.BaseAddress, "GET", path);

        Assert.Equal(400, response.Status);
    }

    public static TheoryData<string> BadTags => new()
    {
        ".hidden",
        "-dash",
        new string('t', 129),
        "with%20space",
        "tag+build",
        "t%C3%A4g",
    };

    [Theory]
    [MemberData(nameof(BadTags))]
    public async Task BadTagIsTagInvalid(string tag)
    {
        using var response = await fixture.Client.GetAsync($"/v2/hello/manifests/{tag}");

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.BadRequest, "TAG_INVALID");
    }

    [Theory]
    [MemberData(nameof(BadTags))]
    public async Task HeadOfBadTagIsTagInvalidWithoutBody(string tag)
    {
        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/hello/manifests/{tag}"));

        await ErrorAssert.HasNoBodyAsync(response, HttpStatusCode.BadRequest);
    }

    public static TheoryData<string> BadDigests => new()
    {
        "sha256:xyz",
        "sha256:" + Hex64[..63],
        "sha256:" + Hex64 + "0",
        "sha256:" + Hex64.ToUpperInvariant(),
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "sha256:",
        ":" + Hex64,
    };

    [Theory]
    [MemberData(nameof(BadDigests))]
    public async Task BadDigestInManifestPathIsDigestInvalid(string digest)
    {
        using var response = await fixture.Client.GetAsync($"/v2/hello/manifests/{digest}");

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Theory]
    [MemberData(nameof(BadDigests))]
    public async Task BadDigestInBlobPathIsDigestInvalid(string digest)
    {
        using var response = await fixture.Client.GetAsync($"/v2/hello/blobs/{digest}");

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("")]
    public async Task BlobReferenceThatIsNoDigestIsDigestInvalid(string reference)
    {
        using var response = await fixture.Client.GetAsync($"/v2/hello/blobs/{reference}");

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Theory]
    [MemberData(nameof(BadDigests))]
    public async Task HeadOfBadDigestIsDigestInvalidWithoutBody(string digest)
    {
        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/hello/blobs/{digest}"));

        await ErrorAssert.HasNoBodyAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task UnknownBlobIsBlobUnknown()
    {
        using var response = await fixture.Client.GetAsync($"/v2/hello/blobs/sha256:{Hex64}");

        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        Assert.Contains(Hex64, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeadOfUnknownBlobIs404WithoutBody()
    {
        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/hello/blobs/sha256:{Hex64}"));

        await ErrorAssert.HasNoBodyAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task UnknownManifestDigestIsManifestUnknown()
    {
        using var response = await fixture.Client.GetAsync($"/v2/hello/manifests/sha256:{Hex64}");

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task HeadOfUnknownManifestDigestIs404WithoutBody()
    {
        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/hello/manifests/sha256:{Hex64}"));

        await ErrorAssert.HasNoBodyAsync(response, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("PUT", "/v2/hello/manifests/latest")]
    [InlineData("DELETE", "/v2/hello/manifests/latest")]
    [InlineData("POST", "/v2/hello/blobs/uploads/")]
    [InlineData("PATCH", "/v2/hello/blobs/uploads/1234")]
    [InlineData("PUT", "/v2/hello/blobs/uploads/1234?digest=sha256:" + Hex64)]
    [InlineData("DELETE", "/v2/hello/blobs/sha256:" + Hex64)]
    public async Task PushMethodsAreUnsupported(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new ByteArrayContent([1, 2, 3]) };
        using var response = await fixture.Client.SendAsync(request);

        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
        Assert.Contains("pull-only", message, StringComparison.Ordinal);
    }
}

[Collection(RegistryCollection.Name)]
public sealed class ValidationTestsOnEmbeddedDefault(RegistryFixture fixture) : ValidationTests(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class ValidationTestsOnFunctionsHost(FunctionsHostFixture fixture) : ValidationTests(fixture);
