// The distribution spec's name and tag grammar, including its edges: length limits,
// separators, and the trailing newline that a '$' anchor would let through.
using Nixery.Core.Names;

namespace Nixery.Core.Tests.Names;

public sealed class ReferenceGrammarTests
{
    [Theory]
    [InlineData("hello")]
    [InlineData("shell/git/htop")]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("python3.12")]
    [InlineData("foo_bar")]
    [InlineData("foo__bar")]
    [InlineData("foo-bar")]
    [InlineData("foo---bar")]
    [InlineData("a.b.c/d_e/f--g/arm64")]
    public void NameGrammarAcceptsValidNames(string name)
    {
        Assert.True(ReferenceGrammar.IsValidName(name));
    }

    [Fact]
    public void NameGrammarAcceptsExactlyMaxLength()
    {
        Assert.Equal(255, ReferenceGrammar.MaxNameLength);
        Assert.True(ReferenceGrammar.IsValidName(new string('a', 255)));
        Assert.True(ReferenceGrammar.IsValidName(string.Join('/', Enumerable.Repeat("abc", 64))[..255]));
    }

    [Fact]
    public void NameGrammarRejectsOneOverMaxLength()
    {
        Assert.False(ReferenceGrammar.IsValidName(new string('a', 256)));
        Assert.False(ReferenceGrammar.IsValidName(string.Join('/', Enumerable.Repeat("abc", 64))[..254] + "/x"));
    }

    [Theory]
    [InlineData("Shell")]
    [InlineData("shell/Git")]
    [InlineData("a..b")]
    [InlineData("a.-b")]
    [InlineData("a___b")]
    [InlineData("-x")]
    [InlineData("x-")]
    [InlineData(".x")]
    [InlineData("x.")]
    [InlineData("_x")]
    [InlineData("x_")]
    [InlineData("/x")]
    [InlineData("x/")]
    [InlineData("a//b")]
    [InlineData("")]
    [InlineData("hello\n")]
    [InlineData("hello ")]
    [InlineData("hel lo")]
    [InlineData("héllo")]
    [InlineData("a\0b")]
    [InlineData("a/../b")]
    [InlineData("a:b")]
    public void NameGrammarRejectsInvalidNames(string name)
    {
        Assert.False(ReferenceGrammar.IsValidName(name));
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("v1.2.3")]
    [InlineData("_private")]
    [InlineData("1")]
    [InlineData("UPPER-and_lower.9")]
    public void TagGrammarAcceptsValidTags(string tag)
    {
        Assert.True(ReferenceGrammar.IsValidTag(tag));
    }

    [Fact]
    public void TagGrammarAccepts128CharactersAndRejects129()
    {
        Assert.True(ReferenceGrammar.IsValidTag(new string('t', 128)));
        Assert.False(ReferenceGrammar.IsValidTag(new string('t', 129)));
    }

    [Theory]
    [InlineData(".hidden")]
    [InlineData("-dash")]
    [InlineData("latest\n")]
    [InlineData("")]
    [InlineData("with space")]
    [InlineData("a:b")]
    [InlineData("a/b")]
    [InlineData("tag+build")]
    [InlineData("ünïcode")]
    public void TagGrammarRejectsInvalidTags(string tag)
    {
        Assert.False(ReferenceGrammar.IsValidTag(tag));
    }
}
