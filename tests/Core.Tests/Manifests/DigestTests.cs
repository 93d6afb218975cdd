// Digest parsing is the gate in front of every blob and manifest lookup: anything the
// registry cannot have produced must be refused before it reaches storage paths.
using Nixery.Core.Manifests;

namespace Nixery.Core.Tests.Manifests;

public sealed class DigestTests
{
    private const string Hex64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static readonly string Hex128 = string.Concat(Enumerable.Repeat("0123456789abcdef", 8));

    [Fact]
    public void DigestParsesLowerCaseSha256()
    {
        Assert.True(Digest.TryParse("sha256:" + Hex64, out var digest));
        Assert.Equal(new Digest("sha256", Hex64), digest);
        Assert.Equal("sha256:" + Hex64, digest.Value.ToString());
    }

    [Fact]
    public void DigestParsesLowerCaseSha512()
    {
        Assert.True(Digest.TryParse("sha512:" + Hex128, out var digest));
        Assert.Equal(new Digest("sha512", Hex128), digest);
    }

    [Fact]
    public void DigestOfEmptyContentIsTheWellKnownSha256()
    {
        Assert.Equal(new Digest("sha256", Hex64), Digest.Sha256([]));
    }

    [Theory]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85A")]
    [InlineData("SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public void DigestRejectsUpperCase(string text)
    {
        Assert.False(Digest.TryParse(text, out var digest));
        Assert.Null(digest);
    }

    [Theory]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555")]
    [InlineData("sha256:")]
    [InlineData("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public void DigestRejectsWrongLength(string text)
    {
        Assert.False(Digest.TryParse(text, out _));
    }

    [Theory]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("sha384:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData(":e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public void DigestRejectsUnknownOrMissingAlgorithm(string text)
    {
        Assert.False(Digest.TryParse(text, out _));
    }

    [Theory]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ")]
    [InlineData(" sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\0")]
    public void DigestRejectsSurroundingWhitespaceAndTrailingNewline(string text)
    {
        Assert.False(Digest.TryParse(text, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("sha256:xyz")]
    [InlineData("sha256:../../../../etc/passwd")]
    public void DigestRejectsEmptyAndGarbage(string? text)
    {
        Assert.False(Digest.TryParse(text, out _));
    }
}
