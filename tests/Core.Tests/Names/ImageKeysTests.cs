// The image key decides cache hits: equal inputs must give one key whatever the name's
// order, and any input that changes the image's bytes must change the key.
using Nixery.Core.Names;
using Nixery.Core.Sources;

namespace Nixery.Core.Tests.Names;

public sealed class ImageKeysTests
{
    private static readonly PackageSource Source = new("path", "/pkgs", "rev-1");

    [Fact]
    public void ImageKeyIsTheSameForAnyOrderOfTheName()
    {
        Assert.Equal(
            ImageKeys.For(ImageRequest.FromName("shell/git/htop"), Source),
            ImageKeys.For(ImageRequest.FromName("htop/shell/git/htop"), Source));
    }

    [Fact]
    public void ImageKeyIgnoresTheSourceLocation()
    {
        var image = ImageRequest.FromName("hello");

        Assert.Equal(ImageKeys.For(image, Source), ImageKeys.For(image, Source with { Location = "/elsewhere" }));
    }

    [Fact]
    public void ImageKeyChangesWithTheRevision()
    {
        var image = ImageRequest.FromName("hello");

        Assert.NotEqual(ImageKeys.For(image, Source), ImageKeys.For(image, Source with { Revision = "rev-2" }));
    }

    [Fact]
    public void ImageKeyChangesWithTheSourceKind()
    {
        var image = ImageRequest.FromName("hello");

        Assert.NotEqual(ImageKeys.For(image, Source), ImageKeys.For(image, Source with { Kind = "git" }));
    }

    [Fact]
    public void ImageKeyChangesWithTheArchitecture()
    {
        Assert.NotEqual(
            ImageKeys.For(ImageRequest.FromName("hello"), Source),
            ImageKeys.For(ImageRequest.FromName("hello/arm64"), Source));
    }

    [Fact]
    public void ImageKeyChangesWithThePackages()
    {
        Assert.NotEqual(
            ImageKeys.For(ImageRequest.FromName("hello"), Source),
            ImageKeys.For(ImageRequest.FromName("hello/git"), Source));
    }

    [Fact]
    public void ImageKeyOfAFixedInputIsPinned()
    {
        // Pinned so that a change of the key formula (which orphans every cached image) is
        // a deliberate edit here, together with a bump of ImageKeys.FormatVersion.
        var key = ImageKeys.For(ImageRequest.FromName("shell/hello"), Source);

        Assert.Equal("5c59699db11456b197f09d35d85f5d79b55f844c17bf031f63c5a42135adeb8a", key);
    }

    [Fact]
    public void ImageKeyIsSha256OfTheDocumentedFields()
    {
        var key = ImageKeys.For(ImageRequest.FromName("hello"), Source);

        Assert.Equal(
            Nixery.Core.Manifests.Digest.Sha256Hex("format=5\nlayers=gnu-tar/libdeflate-1.14/level-6/chunks-1MiB\nsource=path:rev-1\nsystem=x86_64-linux\npackages=hello"),
            key);
        Assert.Matches("^[0-9a-f]{64}$", key);
    }
}
