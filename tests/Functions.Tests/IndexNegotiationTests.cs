// Negotiation for a multi-system image, whose record holds a Docker manifest, an OCI
// manifest and an OCI index: the index wins when the client takes it as readily as the
// others; a client that does not list it never gets it.
using Microsoft.Extensions.Primitives;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;
using Nixery.Functions.Registry;

namespace Nixery.Functions.Tests;

public sealed class IndexNegotiationTests
{
    private static readonly IReadOnlyList<ManifestVariant> Variants =
    [
        new(MediaTypes.DockerManifest, "sha256:" + new string('1', 64), 100),
        new(MediaTypes.OciManifest, "sha256:" + new string('2', 64), 100),
        new(MediaTypes.OciIndex, "sha256:" + new string('3', 64), 100),
    ];

    [Theory]
    [InlineData(null, MediaTypes.DockerManifest)]
    [InlineData("*/*", MediaTypes.DockerManifest)]
    [InlineData(MediaTypes.DockerManifest, MediaTypes.DockerManifest)]
    [InlineData(MediaTypes.OciManifest, MediaTypes.OciManifest)]
    [InlineData(MediaTypes.OciIndex, MediaTypes.OciIndex)]
    [InlineData(MediaTypes.OciManifest + ", " + MediaTypes.DockerManifest + ", " + MediaTypes.OciIndex, MediaTypes.OciIndex)]
    [InlineData(MediaTypes.OciIndex + ";q=0.5, " + MediaTypes.DockerManifest, MediaTypes.DockerManifest)]
    [InlineData(MediaTypes.OciIndex + ";q=0, */*", MediaTypes.DockerManifest)]
    [InlineData("application/*", MediaTypes.DockerManifest)]
    public void TheIndexWinsTiesAndNothingElse(string? accept, string expected)
    {
        var chosen = ManifestNegotiation.Choose(Variants, accept is null ? StringValues.Empty : new StringValues(accept));

        Assert.Equal(expected, chosen.MediaType);
    }
}
