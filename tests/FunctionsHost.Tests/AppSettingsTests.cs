// Binding expressions and connections resolved from app settings as the host resolves them.
namespace Nixery.FunctionsHost.Tests;

public sealed class AppSettingsTests
{
    private static readonly AppSettings Settings = new(new Dictionary<string, string>
    {
        ["NIXERY_QUEUE_NAME"] = "nixery-builds",
        ["NixeryStorage"] = "UseDevelopmentStorage=true;A",
        ["AzureWebJobsOther"] = "UseDevelopmentStorage=true;B",
        ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true;C",
        ["Identity__queueServiceUri"] = "https://account.queue.core.windows.net",
    });

    [Fact]
    public void PercentExpressionsAreReplacedBySettings() =>
        Assert.Equal("nixery-builds-poison", Settings.Resolve("%NIXERY_QUEUE_NAME%-poison", "test"));

    [Fact]
    public void UnknownSettingIsNamed()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Settings.Resolve("%MISSING%", "function f"));

        Assert.Equal("function f: '%MISSING%' does not resolve to a value: add the app setting MISSING.", error.Message);
    }

    [Theory]
    [InlineData("NixeryStorage", "UseDevelopmentStorage=true;A")]
    [InlineData("Other", "UseDevelopmentStorage=true;B")]
    [InlineData("", "UseDevelopmentStorage=true;C")]
    [InlineData(null, "UseDevelopmentStorage=true;C")]
    public void ConnectionIsTheSettingThenAzureWebJobsPrefixedThenStorage(string? connection, string expected) =>
        Assert.Equal(expected, Settings.ConnectionString(connection, "test"));

    [Fact]
    public void IdentityConnectionIsRefusedWithASentence()
    {
        var error = Assert.Throws<NotSupportedException>(() => Settings.ConnectionString("Identity", "function build"));

        Assert.Equal("function build: connection 'Identity' is identity-based (Identity__…); the emulator needs a connection string in the app setting Identity.", error.Message);
    }
}
