using System.Security.Cryptography;
using System.Text;
using Nixery.Builder.Layers;
using Nixery.Builder.Nix;

namespace Nixery.Builder.Tests.Layers;

public class LayerGroupTests
{
    [Fact]
    public void KeyIsSha256OfTheContentsJoinedByNewlines()
    {
        var layer = new LayerGroup(["/nix/store/aaa-bash", "/nix/store/bbb-glibc"], 7);

        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("/nix/store/aaa-bash\n/nix/store/bbb-glibc")));
        Assert.Equal(expected, layer.Key);
    }

    [Fact]
    public void KeyFollowsContentsThroughWith()
    {
        var layer = new LayerGroup(["/nix/store/aaa-bash"], 7);

        var other = layer with { Contents = ["/nix/store/bbb-glibc"] };

        Assert.Equal(LayerGroup.KeyOf(["/nix/store/bbb-glibc"]), other.Key);
        Assert.NotEqual(layer.Key, other.Key);
    }
}

public class PopularityTests
{
    [Fact]
    public void LooksUpByPackageNameWithoutTheStoreHash()
    {
        var popularity = Popularity.Parse("""{"glibc-2.38": 300000, "bash-5.2": 40}""");

        Assert.Equal(300000, popularity.Of("/nix/store/0c6m4hngn9zq5fnshg1hd6h2jjf9w2k2-glibc-2.38"));
        Assert.Equal(40, popularity.Of("/nix/store/1a2b3c-bash-5.2"));
    }

    [Fact]
    public void UnknownPackagesCountOne()
    {
        Assert.Equal(1, Popularity.Parse("{}").Of("/nix/store/0c6m4hngn9zq5fnshg1hd6h2jjf9w2k2-htop-3.3"));
        Assert.Equal(1, Popularity.Empty.Of("/nix/store/0c6m4hngn9zq5fnshg1hd6h2jjf9w2k2-htop-3.3"));
    }

    [Fact]
    public void PackageNameDropsOnlyTheStorePrefix()
    {
        Assert.Equal("bash-5.2-p15", StorePaths.Name("/nix/store/0c6m4hngn9zq5fnshg1hd6h2jjf9w2k2-bash-5.2-p15"));
        Assert.Equal("/usr/lib/x", StorePaths.Name("/usr/lib/x"));
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("""{"bash": "many"}""")]
    [InlineData("""{"bash": 1.5}""")]
    [InlineData("not json")]
    public void MalformedDataIsAFormatError(string json)
    {
        Assert.Throws<FormatException>(() => Popularity.Parse(json));
    }
}
