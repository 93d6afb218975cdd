// ImageRequest.FromName in the manner of Nixery's ImageFromName tests: each name and the
// whole request it means, with the package set's meta-packages of the offline set.
using Nixery.Core.Names;

namespace Nixery.Core.Tests.Names;

public sealed class ImageRequestTests
{
    private static readonly MetaPackages Meta = new(Shell: ["bashInteractive", "coreutils"], AlwaysInclude: ["cacert", "iana-etc"]);

    [Theory]
    [InlineData("hello", "hello", new[] { "cacert", "hello", "iana-etc" }, "amd64")]
    [InlineData("hello/git/htop", "git/hello/htop", new[] { "cacert", "git", "hello", "htop", "iana-etc" }, "amd64")]
    [InlineData("shell", "shell", new[] { "bashInteractive", "cacert", "coreutils", "iana-etc" }, "amd64")]
    [InlineData("shell/htop", "htop/shell", new[] { "bashInteractive", "cacert", "coreutils", "htop", "iana-etc" }, "amd64")]
    [InlineData("htop/shell", "htop/shell", new[] { "bashInteractive", "cacert", "coreutils", "htop", "iana-etc" }, "amd64")]
    [InlineData("shell/arm64", "arm64/shell", new[] { "bashInteractive", "cacert", "coreutils", "iana-etc" }, "arm64")]
    [InlineData("arm64", "arm64", new[] { "cacert", "iana-etc" }, "arm64")]
    [InlineData("hello/hello/git/hello", "git/hello", new[] { "cacert", "git", "hello", "iana-etc" }, "amd64")]
    [InlineData("shell/coreutils/shell", "coreutils/shell", new[] { "bashInteractive", "cacert", "coreutils", "iana-etc" }, "amd64")]
    [InlineData("cacert", "cacert", new[] { "cacert", "iana-etc" }, "amd64")]
    public void FromNameGivesTheWholeRequest(string name, string expectedName, string[] expectedPackages, string expectedArch)
    {
        var request = ImageRequest.FromName(name, Meta);

        Assert.Equal(expectedName, request.Name);
        Assert.Equal(expectedPackages, request.Packages);
        Assert.Equal(expectedArch == "arm64" ? Architecture.Arm64 : Architecture.Amd64, request.Arch);
    }

    [Fact]
    public void FromNameOfShellArm64IsTheAarch64System()
    {
        var request = ImageRequest.FromName("shell/arm64", Meta);

        Assert.Equal(new Architecture("aarch64-linux", "arm64"), request.Arch);
    }

    [Fact]
    public void FromNameGivesTheSameRequestForEveryOrderOfComponents()
    {
        var a = ImageRequest.FromName("shell/git/htop", Meta);
        var b = ImageRequest.FromName("htop/git/shell", Meta);

        Assert.Equal(a.Name, b.Name);
        Assert.Equal(a.Packages, b.Packages);
        Assert.Equal(a.Arch, b.Arch);
        Assert.Equal("git/htop/shell", a.Name);
    }

    [Fact]
    public void FromNameSortsPackagesOrdinally()
    {
        var request = ImageRequest.FromName("zlib/Zz0/a", new MetaPackages([], []));

        Assert.Equal(["Zz0", "a", "zlib"], request.Packages);
    }
}
