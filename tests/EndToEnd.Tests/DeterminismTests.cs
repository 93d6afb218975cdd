// The same packages give the same digests on any machine: two registries that share
// nothing but the Nix store build byte-identical images. Each waits for its build in the
// request (NIXERY_BUILD_WAIT) so the test needs no retry loop.
using System.Net;
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
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<(string Digest, byte[] Body)> ManifestAsync(RegistryInstance registry, string path)
    {
        using var response = await registry.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", response.Content.Headers.ContentType?.MediaType);
        return (response.Headers.GetValues("Docker-Content-Digest").Single(), await response.Content.ReadAsByteArrayAsync());
    }
}
