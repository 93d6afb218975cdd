// The image key decides cache hits: equal inputs must give one key whatever the name's
// order, and any input that changes the image's bytes must change the key.
using Nixery.Core.Names;
using Nixery.Core.Queue;

namespace Nixery.Core.Tests.Names;

public sealed class ImageKeysTests
{
    private static readonly MetaPackages Meta = new(["bashInteractive", "coreutils"], ["cacert", "iana-etc"]);

    private static readonly PackageSource Source = new("path", "/pkgs", "rev-1");

    [Fact]
    public void ImageKeyIsTheSameForAnyOrderOfTheName()
    {
        Assert.Equal(
            ImageKeys.For(ImageRequest.FromName("shell/git/htop", Meta), Source),
            ImageKeys.For(ImageRequest.FromName("htop/shell/git/htop", Meta), Source));
    }

    [Fact]
    public void ImageKeyIgnoresTheSourceLocation()
    {
        var image = ImageRequest.FromName("hello", Meta);

        Assert.Equal(ImageKeys.For(image, Source), ImageKeys.For(image, Source with { Location = "/elsewhere" }));
    }

    [Fact]
    public void ImageKeyChangesWithTheRevision()
    {
        var image = ImageRequest.FromName("hello", Meta);

        Assert.NotEqual(ImageKeys.For(image, Source), ImageKeys.For(image, Source with { Revision = "rev-2" }));
    }

    [Fact]
    public void ImageKeyChangesWithTheSourceKind()
    {
        var image = ImageRequest.FromName("hello", Meta);

        Assert.NotEqual(ImageKeys.For(image, Source), ImageKeys.For(image, Source with { Kind = "git" }));
    }

    [Fact]
    public void ImageKeyChangesWithTheArchitecture()
    {
        Assert.NotEqual(
            ImageKeys.For(ImageRequest.FromName("hello", Meta), Source),
            ImageKeys.For(ImageRequest.FromName("hello/arm64", Meta), Source));
    }

    [Fact]
    public void ImageKeyChangesWithThePackages()
    {
        Assert.NotEqual(
            ImageKeys.For(ImageRequest.FromName("hello", Meta), Source),
            ImageKeys.For(ImageRequest.FromName("hello/git", Meta), Source));
    }

    [Fact]
    public void ImageKeyOfAFixedInputIsPinned()
    {
        // Pinned so that a change of the key formula (which orphans every cached image) is
        // a deliberate edit here, together with a bump of ImageKeys.FormatVersion.
        var key = ImageKeys.For(ImageRequest.FromName("shell/hello", Meta), Source);

        Assert.Equal("92c7b64f586631a96a1132859f24d99a77b46000601631bbbc206ad705d4657e", key);
    }

    [Fact]
    public void ImageKeyIsSha256OfTheDocumentedFields()
    {
        var key = ImageKeys.For(ImageRequest.FromName("hello", Meta), Source);

        Assert.Equal(
            Nixery.Core.Storage.RegistryStore.HashKey("format=2\nsource=path:rev-1\nsystem=x86_64-linux\npackages=cacert,hello,iana-etc"),
            key);
        Assert.Matches("^[0-9a-f]{64}$", key);
    }
}
