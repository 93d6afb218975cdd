// A wrong setting stops the app before it listens, with a sentence naming the setting.
using Nixery.Embedded;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests;

public sealed class StartupTests
{
    [Fact]
    public void AppWithPortAbcDoesNotStartAndNamesPort()
    {
        using var folder = new TempDir("nixery-functions-startup");
        var settings = new Dictionary<string, string?>(RegistryInstance.DefaultSettings(folder.Combine("storage")))
        {
            ["PORT"] = "abc",
        };

        var app = EmbeddedApp.Create([], settings, out var error);

        Assert.Null(app);
        Assert.NotNull(error);
        Assert.Contains("PORT is 'abc'; it must be a whole number from 1 to 65535.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AppWithSeveralWrongSettingsNamesEveryOne()
    {
        using var folder = new TempDir("nixery-functions-startup");
        var settings = new Dictionary<string, string?>(RegistryInstance.DefaultSettings(folder.Combine("storage")))
        {
            ["PORT"] = "abc",
            ["NIX_TIMEOUT"] = "0",
            ["NIXERY_PKGS_PATH"] = folder.Path,
        };

        var app = EmbeddedApp.Create([], settings, out var error);

        Assert.Null(app);
        Assert.Contains("PORT", error, StringComparison.Ordinal);
        Assert.Contains("NIX_TIMEOUT", error, StringComparison.Ordinal);
        Assert.Contains("NIXERY_PKGS_PATH", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppWithValidSettingsStarts()
    {
        using var folder = new TempDir("nixery-functions-startup");
        await using var instance = await RegistryInstance.StartAsync(folder.Combine("storage"), new Dictionary<string, string?> { ["NIXERY_WORKERS"] = "0" });

        using var response = await instance.Client.GetAsync("/v2/");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }
}
