// A tag request gets the stored manifest its Accept header prefers (Docker schema 2 or
// OCI); anything else — no Accept, */*, types we do not store — gets the Docker default,
// never a 406. A digest request gets the blob it names, whatever the Accept header says.
// The image record and both manifests are put straight into storage: no Nix build.
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Nixery.Core.Manifests;
using Nixery.Core.Names;
using Nixery.Core.Storage;

namespace Nixery.Functions.Tests;

public abstract class ManifestNegotiationTests(IRegistryUnderTest fixture) : IAsyncLifetime
{
    /// <summary>An image name no other test builds or stores.</summary>
    private const string Name = "negotiation/hello";

    private const string Docker = MediaTypes.DockerManifest;

    private const string Oci = MediaTypes.OciManifest;

    private const string ConfigDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    private static readonly string DockerJson =
        "{\"schemaVersion\":2,\"mediaType\":\"" + Docker + "\",\"config\":{\"mediaType\":\"" + MediaTypes.DockerConfig
        + "\",\"size\":2,\"digest\":\"" + ConfigDigest + "\"},\"layers\":[]}";

    private static readonly string OciJson =
        "{\"schemaVersion\":2,\"mediaType\":\"" + Oci + "\",\"config\":{\"mediaType\":\"" + MediaTypes.OciConfig
        + "\",\"size\":2,\"digest\":\"" + ConfigDigest + "\"},\"layers\":[]}";

    private Digest _docker;

    private Digest _oci;

    public async Task InitializeAsync()
    {
        var store = fixture.Store;
        _docker = await store.PutBlobAsync(Encoding.UTF8.GetBytes(DockerJson), Docker, CancellationToken.None);
        _oci = await store.PutBlobAsync(Encoding.UTF8.GetBytes(OciJson), Oci, CancellationToken.None);
        var (selection, source) = await fixture.Sources.ResolveAsync(Name, "latest", CancellationToken.None);
        var image = ImageRequest.FromName(selection.Packages);
        var key = ImageKeys.For(image, source);
        var record = new ImageRecord(_docker.ToString(), Docker, Encoding.UTF8.GetByteCount(DockerJson), image.Packages, [
            new ManifestVariant(Docker, _docker.ToString(), Encoding.UTF8.GetByteCount(DockerJson)),
            new ManifestVariant(Oci, _oci.ToString(), Encoding.UTF8.GetByteCount(OciJson)),
        ]);
        await store.PutImageAsync(key, record, CancellationToken.None);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public static TheoryData<string[], string> AcceptCases => new()
    {
        { [Docker], Docker },
        { [Oci], Oci },
        { [$"{Docker}, {Oci}"], Docker },
        { [$"{Oci}, {Docker}"], Docker },
        { [$"{Docker};q=0.5, {Oci}"], Oci },
        { [$"{Docker}, {Oci};q=0.9"], Docker },
        { [$"{Oci};q=0.8", $"{Docker};q=0.3"], Oci },
        { [$"{Oci};q=0.2", $"{Docker};q=0.3"], Docker },
        { [$"{Docker};q=0", $"{Oci};q=0.1"], Oci },
        { [$"{Oci}; charset=utf-8; q=0.7, */*;q=0.1"], Oci },
        { [$"{Oci.ToUpperInvariant()}"], Oci },
        { ["*/*"], Docker },
        { ["application/*"], Docker },
        { [$"*/*, {Oci}"], Docker },
        { [$"*/*;q=0.5, {Oci}"], Oci },
        { [MediaTypes.OciIndex], Docker },
        { ["application/vnd.docker.distribution.manifest.v1+prettyjws"], Docker },
        { ["text/html"], Docker },
        { [$"{Oci};q=0"], Docker },
        { ["this is, not; a = media type"], Docker },
        { [], Docker },
    };

    [Theory]
    [MemberData(nameof(AcceptCases))]
    public async Task ManifestByTagIsTheVariantTheAcceptHeaderPrefers(string[] accept, string expected)
    {
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head })
        {
            using var request = new HttpRequestMessage(method, $"/v2/{Name}/manifests/latest");
            foreach (var line in accept)
            {
                Assert.True(request.Headers.TryAddWithoutValidation("Accept", line));
            }

            using var response = await fixture.Client.SendAsync(request);

            var (digest, json) = expected == Oci ? (_oci, OciJson) : (_docker, DockerJson);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(expected, response.Content.Headers.ContentType?.ToString());
            Assert.Equal([digest.ToString()], response.Headers.GetValues("Docker-Content-Digest"));
            Assert.Equal(Encoding.UTF8.GetByteCount(json), response.Content.Headers.ContentLength);
            Assert.Equal(method == HttpMethod.Head ? string.Empty : json, await response.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [InlineData(Docker, Docker)]
    [InlineData(Oci, Docker)]
    [InlineData(Docker, Oci)]
    [InlineData(Oci, Oci)]
    [InlineData("*/*", Oci)]
    public async Task ManifestByDigestIsThatBlobWhateverTheAcceptHeader(string accept, string stored)
    {
        var (digest, json) = stored == Oci ? (_oci, OciJson) : (_docker, DockerJson);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{Name}/manifests/{digest}");
        request.Headers.TryAddWithoutValidation("Accept", accept);

        using var response = await fixture.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(stored, response.Content.Headers.ContentType?.ToString());
        Assert.Equal([digest.ToString()], response.Headers.GetValues("Docker-Content-Digest"));
        Assert.Equal(json, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(Docker)]
    [InlineData(Oci)]
    public Task ManifestByTagIfNoneMatchWithTheETagOfTheChosenVariantIsNotModified(string accept) =>
        NotModifiedAssert.IfNoneMatchWithItsETagAsync(fixture.Client, $"/v2/{Name}/manifests/latest", accept == Oci ? _oci : _docker, accept);

    [Fact]
    public async Task AManifestByDigestMayBeCachedAndOneByTagMayNot()
    {
        using var byDigest = await fixture.Client.GetAsync($"/v2/{Name}/manifests/{_docker}");
        using var byTag = await fixture.Client.GetAsync($"/v2/{Name}/manifests/latest");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (byDigest.StatusCode, byTag.StatusCode));
        Assert.Equal("max-age=31536000", byDigest.Headers.CacheControl?.ToString());
        Assert.Null(byTag.Headers.CacheControl);
    }

    [Fact]
    public async Task ManifestByTagIfNoneMatchWithTheOtherVariantsETagIsThatVariant()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{Name}/manifests/latest");
        request.Headers.TryAddWithoutValidation("Accept", Oci);
        request.Headers.TryAddWithoutValidation("If-None-Match", $"\"{_docker}\"");

        using var response = await fixture.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"\"{_oci}\"", response.Headers.ETag?.Tag);
        Assert.Equal(OciJson, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ImageRecordWithoutVariantsServesItsOneManifest()
    {
        // A record written before Variants existed (same shape, field absent).
        var (selection, source) = await fixture.Sources.ResolveAsync("negotiation/old", "latest", CancellationToken.None);
        var image = ImageRequest.FromName(selection.Packages);
        var key = ImageKeys.For(image, source);
        await fixture.Store.PutImageAsync(key, new ImageRecord(_docker.ToString(), Docker, Encoding.UTF8.GetByteCount(DockerJson), image.Packages), CancellationToken.None);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/negotiation/old/manifests/latest");
        request.Headers.TryAddWithoutValidation("Accept", Oci);

        using var response = await fixture.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Docker, response.Content.Headers.ContentType?.ToString());
        Assert.Equal([_docker.ToString()], response.Headers.GetValues("Docker-Content-Digest"));
    }
}

[Collection(RegistryCollection.Name)]
public sealed class ManifestNegotiationTestsOnEmbeddedDefault(RegistryFixture fixture) : ManifestNegotiationTests(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class ManifestNegotiationTestsOnFunctionsHost(FunctionsHostFixture fixture) : ManifestNegotiationTests(fixture);
