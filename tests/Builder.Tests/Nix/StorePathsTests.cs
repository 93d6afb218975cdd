// Store path names split as Nix splits them, and NAR hashes in both of Nix's printings.
using Nixery.Builder.Nix;

namespace Nixery.Builder.Tests.Nix;

public sealed class StorePathsTests
{
    [Theory]
    [InlineData("/nix/store/ndh4977963ndkbj8jc287ja049mq1i6x-bash-5.2.15-2+b8", "bash", "5.2.15-2+b8")]
    [InlineData("/nix/store/6g688bw68z80f8dmyidyvd9d94z4j151-python3.11-3.11.2-6+deb12u6", "python3.11", "3.11.2-6+deb12u6")]
    [InlineData("/nix/store/5xv4g0s1jlbk7f5xaq4wp3sfm4mvgjbh-libbz2-1.0-1.0.8-5+b1", "libbz2", "1.0-1.0.8-5+b1")]
    [InlineData("/nix/store/0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-libc6+libgcc-s1", "libc6+libgcc-s1", "")]
    [InlineData("/nix/store/yy9k7xclfrjwpqan0kphq81m9z4780gf-git-1_2.39.5-0+deb12u3", "git", "1_2.39.5-0+deb12u3")]
    public void PackageAndVersionSplitAsParseDrvNameDoes(string path, string package, string version)
    {
        Assert.Equal((package, version), StorePaths.PackageAndVersion(path));
    }

    [Fact]
    public void HashPartIsTheThirtyTwoCharactersAfterTheStore()
    {
        Assert.Equal("ndh4977963ndkbj8jc287ja049mq1i6x", StorePaths.HashPart("/nix/store/ndh4977963ndkbj8jc287ja049mq1i6x-bash-5.2.15-2+b8"));
        Assert.Equal("", StorePaths.HashPart("/tmp/bash"));
    }

    [Theory]
    [InlineData("sha256:13mnrjbgfdmjc06chlb5sv2i22xbdlbqps6n75bdi8ky6ids302j")]
    [InlineData("sha256-UoChWzR+othWOdboixdtqwsRxdZlUcgMYLI295bMto4=")]
    [InlineData("sha256:5280a15b347ea2d85639d6e88b176dab0b11c5d66551c80c60b236f796ccb68e")]
    public void NarHashInEveryPrintingIsTheSameHex(string narHash)
    {
        // nix-store --query --hash and `nix hash to-base16` of one store path agree on this value.
        Assert.Equal("5280a15b347ea2d85639d6e88b176dab0b11c5d66551c80c60b236f796ccb68e", NarHash.ToHex(narHash));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("md5:abc")]
    [InlineData("sha256:e3mnrjbgfdmjc06chlb5sv2i22xbdlbqps6n75bdi8ky6ids302j")]
    [InlineData("sha256:13mn")]
    [InlineData("sha256-notbase64")]
    public void NarHashThatIsNoSha256IsNull(string? narHash)
    {
        Assert.Null(NarHash.ToHex(narHash));
    }
}
