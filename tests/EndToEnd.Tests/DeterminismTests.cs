// The same packages give the same digests on any machine: two registries that share
// nothing but the Nix store build byte-identical images (both manifests, and the SBOM
// artifacts the referrers API lists). Each waits for its build in the
// request (NIXERY_BUILD_WAIT) so the test needs no retry loop.
using System.Net;
using Nixery.Core.Manifests;
using Nixery.TestSupport;

namespace Nixery.EndToEnd.Tests;

[Collection(PullCollection.Name)]
public sealed class DeterminismTests
{
    [Fact]
    public async Task TwoFreshRegistriesBuildIdenticalManifestDigests()
    {
        var root = Directory.CreateTempSubdirectory("nixery-determinism-").FullName;
        try
        {
            var settings = new Dictionary<string, string?> { ["NIXERY_BUILD_WAIT"] = "600" };
            await using var first = await RegistryInstance.StartAsync(Path.Combine(root, "a"), settings);
            await using var second = await RegistryInstance.StartAsync(Path.Combine(root, "b"), settings);

            var a = await ManifestAsync(first, "v2/shell/git/manifests/latest");
            var b = await ManifestAsync(second, "v2/git/shell/manifests/latest");

            Assert.Equal(a.Digest, b.Digest);
            Assert.Equal(a.Body, b.Body);
            Assert.StartsWith("sha256:", a.Digest, StringComparison.Ordinal);

            // The OCI manifest (with its annotations) and the SBOM artifacts attached to both.
            Assert.Equal(await ManifestAsync(first, "v2/shell/git/manifests/latest", MediaTypes.OciManifest), await ManifestAsync(second, "v2/shell/git/manifests/latest", MediaTypes.OciManifest));
            Assert.Equal(await ReferrersAsync(first, a.Digest), await ReferrersAsync(second, b.Digest));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<(string Digest, string Body)> ManifestAsync(RegistryInstance registry, string path, string mediaType = MediaTypes.DockerManifest)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(mediaType);
        using var response = await registry.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        return (response.Headers.GetValues("Docker-Content-Digest").Single(), await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> ReferrersAsync(RegistryInstance registry, string digest)
    {
        var body = await registry.Client.GetStringAsync($"v2/shell/git/referrers/{digest}");
        Assert.Contains(MediaTypes.CycloneDxJson.Replace("+", "\\u002B", StringComparison.Ordinal), body, StringComparison.Ordinal);
        return body;
    }
}
