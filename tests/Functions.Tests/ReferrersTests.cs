// The OCI 1.1 referrers API: the stored index of a manifest's artifacts, filtered by
// artifactType on request, and an empty index (never 404) for a digest with none.
using System.Net;
using Nixery.Core.Manifests;

namespace Nixery.Functions.Tests;

public abstract class ReferrersTests(IRegistryUnderTest fixture)
{
    private const string Hex64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private const string Signature = "application/vnd.example.signature.v1";

    private async Task<Digest> SubjectWithTwoReferrersAsync()
    {
        var subject = Digest.Sha256("a manifest with referrers"u8);
        await fixture.Store.PutReferrersAsync(subject, ReferrersIndex.Of(
        [
            new ReferrerDescriptor(MediaTypes.OciManifest, 10, Digest.Sha256("sbom"u8).ToString(), MediaTypes.CycloneDxJson),
            new ReferrerDescriptor(MediaTypes.OciManifest, 20, Digest.Sha256("signature"u8).ToString(), Signature, new Dictionary<string, string> { ["a"] = "b" }),
        ]), CancellationToken.None);
        return subject;
    }

    [Fact]
    public async Task ReferrersOfAManifestAreItsStoredIndex()
    {
        var subject = await SubjectWithTwoReferrersAsync();

        using var response = await fixture.Client.GetAsync($"/v2/shell/git/referrers/{subject}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.oci.image.index.v1+json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(response.Headers.Contains("OCI-Filters-Applied"));
        Assert.Equal(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
            + $"{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":10,\"digest\":\"{Digest.Sha256("sbom"u8)}\",\"artifactType\":\"application/vnd.cyclonedx+json\"}},"
            + $"{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":20,\"digest\":\"{Digest.Sha256("signature"u8)}\",\"artifactType\":\"{Signature}\",\"annotations\":{{\"a\":\"b\"}}}}]}}",
            (await response.Content.ReadAsStringAsync()).Replace("\\u002B", "+", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ArtifactTypeFiltersAndSaysSo()
    {
        var subject = await SubjectWithTwoReferrersAsync();

        using var response = await fixture.Client.GetAsync($"/v2/shell/git/referrers/{subject}?artifactType={Uri.EscapeDataString(MediaTypes.CycloneDxJson)}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["artifactType"], response.Headers.GetValues("OCI-Filters-Applied"));
        Assert.Equal(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
            + $"{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"size\":10,\"digest\":\"{Digest.Sha256("sbom"u8)}\",\"artifactType\":\"application/vnd.cyclonedx+json\"}}]}}",
            (await response.Content.ReadAsStringAsync()).Replace("\\u002B", "+", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADigestWithoutReferrersIsAnEmptyIndexNot404()
    {
        using var response = await fixture.Client.GetAsync($"/v2/hello/referrers/sha256:{Hex64}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.oci.image.index.v1+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}", (await response.Content.ReadAsStringAsync()).Replace("\\u002B", "+", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("sha256:xyz")]
    public async Task AReferenceThatIsNoDigestIsDigestInvalid(string reference)
    {
        using var response = await fixture.Client.GetAsync($"/v2/hello/referrers/{reference}");

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }
}

[Collection(RegistryCollection.Name)]
public sealed class ReferrersTestsOnEmbeddedDefault(RegistryFixture fixture) : ReferrersTests(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class ReferrersTestsOnFunctionsHost(FunctionsHostFixture fixture) : ReferrersTests(fixture);
