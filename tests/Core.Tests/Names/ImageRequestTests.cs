// ImageRequest.FromName in the manner of Nixery's ImageFromName tests: each name and the
// whole request it means; then what the worker makes of `shell` and the always-included
// packages with the meta-packages of a set like the offline one.
using Nixery.Core.Names;

namespace Nixery.Core.Tests.Names;

public sealed class ImageRequestTests
{
    private static readonly MetaPackages Meta = new(Shell: ["bashInteractive", "coreutils"], AlwaysInclude: ["cacert", "iana-etc"]);

    [Theory]
    [InlineData("hello", "hello", new[] { "hello" }, "amd64")]
    [InlineData("hello/git/htop", "git/hello/htop", new[] { "git", "hello", "htop" }, "amd64")]
    [InlineData("shell", "shell", new[] { "shell" }, "amd64")]
    [InlineData("shell/htop", "htop/shell", new[] { "htop", "shell" }, "amd64")]
    [InlineData("htop/shell", "htop/shell", new[] { "htop", "shell" }, "amd64")]
    [InlineData("shell/arm64", "arm64/shell", new[] { "shell" }, "arm64")]
    [InlineData("arm64", "arm64", new string[0], "arm64")]
    [InlineData("hello/hello/git/hello", "git/hello", new[] { "git", "hello" }, "amd64")]
    [InlineData("shell/coreutils/shell", "coreutils/shell", new[] { "coreutils", "shell" }, "amd64")]
    public void FromNameGivesTheWholeRequest(string name, string expectedName, string[] expectedPackages, string expectedArch)
    {
        var request = ImageRequest.FromName(name);

        Assert.Equal(expectedName, request.Name);
        Assert.Equal(expectedPackages, request.Packages);
        Assert.Equal(expectedArch == "arm64" ? Architecture.Arm64 : Architecture.Amd64, request.Arch);
    }

    [Theory]
    [InlineData(new[] { "hello" }, new[] { "cacert", "hello", "iana-etc" })]
    [InlineData(new[] { "shell" }, new[] { "bashInteractive", "cacert", "coreutils", "iana-etc" })]
    [InlineData(new[] { "htop", "shell" }, new[] { "bashInteractive", "cacert", "coreutils", "htop", "iana-etc" })]
    [InlineData(new[] { "coreutils", "shell" }, new[] { "bashInteractive", "cacert", "coreutils", "iana-etc" })]
    [InlineData(new[] { "cacert" }, new[] { "cacert", "iana-etc" })]
    [InlineData(new string[0], new[] { "cacert", "iana-etc" })]
    [InlineData(new[] { "nonroot", "shell" }, new[] { "bashInteractive", "cacert", "coreutils", "iana-etc" })]
    public void ExpandReplacesShellAndAddsTheAlwaysIncludedPackages(string[] requested, string[] expected)
    {
        Assert.Equal(expected, Meta.Expand(requested));
    }

    [Fact]
    public void NonRootIsKeptInThePackagesSoTheImageKeyTellsItApart()
    {
        var nonRoot = ImageRequest.FromName("shell/nonroot");
        var root = ImageRequest.FromName("shell");

        Assert.Equal(["nonroot", "shell"], nonRoot.Packages);
        Assert.True(nonRoot.NonRoot);
        Assert.False(root.NonRoot);
        Assert.False(nonRoot.ArchitectureNamed);
    }

    [Fact]
    public void FromNameOfShellArm64IsTheAarch64System()
    {
        var request = ImageRequest.FromName("shell/arm64");

        Assert.Equal(new Architecture("aarch64-linux", "arm64"), request.Arch);
    }

    [Fact]
    public void FromNameGivesTheSameRequestForEveryOrderOfComponents()
    {
        var a = ImageRequest.FromName("shell/git/htop");
        var b = ImageRequest.FromName("htop/git/shell");

        Assert.Equal(a.Name, b.Name);
        Assert.Equal(a.Packages, b.Packages);
        Assert.Equal(a.Arch, b.Arch);
        Assert.Equal("git/htop/shell", a.Name);
    }

    [Fact]
    public void FromNameSortsPackagesOrdinally()
    {
        var request = ImageRequest.FromName("zlib/Zz0/a");

        Assert.Equal(["Zz0", "a", "zlib"], request.Packages);
    }
}
