// Start-up validation: defaults, and a sentence naming each wrong setting, all at once.
using Microsoft.Extensions.Configuration;
using Nixery.Core.Options;
using Nixery.Core.Sources;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Options;

public sealed class RegistryOptionsTests : IDisposable
{
    private readonly TempDir _folder = new();

    private readonly string _pkgs;

    private readonly string _nix;

    public RegistryOptionsTests()
    {
        _pkgs = _folder.Combine("pkgset");
        Directory.CreateDirectory(_pkgs);
        File.WriteAllText(Path.Combine(_pkgs, "default.nix"), "{}");
        _nix = _folder.Combine("nix");
        Directory.CreateDirectory(_nix);
        File.WriteAllText(Path.Combine(_nix, "prepare-image.nix"), "{}");
    }

    public void Dispose() => _folder.Dispose();

    private RegistryOptions Bind(Dictionary<string, string?> settings, bool withPaths = true)
    {
        if (withPaths)
        {
            settings.TryAdd("NIXERY_PKGS_PATH", _pkgs);
            settings.TryAdd("NIXERY_NIX_PATH", _nix);
        }

        return RegistryOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
    }

    private OptionsException BindFails(Dictionary<string, string?> settings, bool withPaths = true) =>
        Assert.Throws<OptionsException>(() => Bind(settings, withPaths));

    [Fact]
    public void OptionsHaveTheDocumentedDefaults()
    {
        var options = Bind([]);

        Assert.Equal([new SourceDefinition("default", "path", _pkgs)], options.Sources);

        Assert.Equal(
            new RegistryOptions
            {
                Port = 8080,
                StorageBackend = "filesystem",
                StoragePath = ".state/storage",
                Sources = options.Sources,
                NixTimeout = TimeSpan.FromSeconds(60),
                PopularityUrl = null,
                BuildWait = TimeSpan.FromSeconds(20),
                RetryAfterSeconds = 5,
                FailureTtl = TimeSpan.FromMinutes(5),
                BuildStaleAfter = TimeSpan.FromMinutes(15),
                LayerBudget = 94,
                Layering = "stable",
                Workers = 1,
                PackConcurrency = Environment.ProcessorCount,
                NixExpressionsPath = _nix,
            },
            options);
    }

    [Fact]
    public void OptionsBindEverySetting()
    {
        var popularity = _folder.Combine("popularity.json");
        File.WriteAllText(popularity, "{}");

        var options = Bind(new()
        {
            ["PORT"] = "9000",
            ["STORAGE_PATH"] = "/srv/nixery",
            ["NIX_TIMEOUT"] = "30",
            ["NIX_POPULARITY_URL"] = "file://" + popularity,
            ["NIXERY_BUILD_WAIT"] = "0",
            ["NIXERY_RETRY_AFTER"] = "7",
            ["NIXERY_FAILURE_TTL"] = "60",
            ["NIXERY_BUILD_STALE"] = "120",
            ["NIXERY_LAYER_BUDGET"] = "50",
            ["NIXERY_LAYERING"] = "nixery",
            ["NIXERY_WORKERS"] = "0",
            ["NIXERY_PACK_CONCURRENCY"] = "3",
        });

        Assert.Equal(
            new RegistryOptions
            {
                Port = 9000,
                StorageBackend = "filesystem",
                StoragePath = "/srv/nixery",
                Sources = options.Sources,
                NixTimeout = TimeSpan.FromSeconds(30),
                PopularityUrl = "file://" + popularity,
                BuildWait = TimeSpan.Zero,
                RetryAfterSeconds = 7,
                FailureTtl = TimeSpan.FromSeconds(60),
                BuildStaleAfter = TimeSpan.FromSeconds(120),
                LayerBudget = 50,
                Layering = "nixery",
                Workers = 0,
                PackConcurrency = 3,
                NixExpressionsPath = _nix,
            },
            options);
    }

    [Fact]
    public void PortThatIsNotANumberNamesPort()
    {
        var error = BindFails(new() { ["PORT"] = "abc" });

        Assert.Equal(["PORT is 'abc'; it must be a whole number from 1 to 65535."], error.Errors);
        Assert.Contains("PORT", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-1")]
    [InlineData("8080.5")]
    public void PortOutOfRangeNamesPort(string port)
    {
        var error = BindFails(new() { ["PORT"] = port });

        Assert.Equal($"PORT is '{port}'; it must be a whole number from 1 to 65535.", Assert.Single(error.Errors));
    }

    [Fact]
    public void FunctionsCustomHandlerPortIsNoLongerRead()
    {
        var options = Bind(new() { ["PORT"] = "9000", ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "41234" });

        Assert.Equal(9000, options.Port);
    }

    [Fact]
    public void EmbeddedDefaultQueuesInProcessAndReadsNoQueueSettings()
    {
        var options = Bind(new() { ["NIXERY_QUEUE_NAME"] = "Not_A_Queue" });

        Assert.Equal(RegistryPart.Embedded, options.Part);
        Assert.Null(options.AzureQueue);
    }

    [Fact]
    public void HttpFunctionsAppNeedsTheQueueAndNoNixExpressions()
    {
        var settings = new Dictionary<string, string?> { ["NIXERY_PKGS_PATH"] = _pkgs, ["NIXERY_NIX_PATH"] = _folder.Combine("nowhere") };
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var error = Assert.Throws<OptionsException>(() => RegistryOptions.FromConfiguration(config, RegistryPart.HttpFunctions));
        settings["AZURE_STORAGE_CONNECTION_STRING"] = "UseDevelopmentStorage=true";
        var options = RegistryOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), RegistryPart.HttpFunctions);

        Assert.StartsWith("neither AZURE_STORAGE_CONNECTION_STRING nor AZURE_STORAGE_QUEUE_URL is set", Assert.Single(error.Errors), StringComparison.Ordinal);
        Assert.Equal("nixery-builds", options.AzureQueue?.QueueName);
    }

    [Fact]
    public void BuildFunctionsAppNeedsTheNixExpressionsAndNoQueueSettings()
    {
        var settings = new Dictionary<string, string?> { ["NIXERY_PKGS_PATH"] = _pkgs, ["NIXERY_NIX_PATH"] = _pkgs };
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var error = Assert.Throws<OptionsException>(() => RegistryOptions.FromConfiguration(config, RegistryPart.BuildFunctions));

        Assert.StartsWith("NIXERY_NIX_PATH is ", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void MissingPackageSetPathIsNamed()
    {
        var error = BindFails(new() { ["NIXERY_NIX_PATH"] = _nix }, withPaths: false);

        var message = Assert.Single(error.Errors);
        Assert.StartsWith("No package source is set; set NIXERY_PKGS_PATH to a package set folder", message, StringComparison.Ordinal);
        Assert.Contains("NIXERY_PKGS_PATH", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PackageSetPathWithoutDefaultNixIsNamed()
    {
        var empty = _folder.Combine("empty");
        Directory.CreateDirectory(empty);

        var error = BindFails(new() { ["NIXERY_PKGS_PATH"] = empty });

        Assert.Equal(
            [$"NIXERY_PKGS_PATH is '{empty}', which has no default.nix; it must name a package set folder (run scripts/setup to make .state/pkgset)."],
            error.Errors);
    }

    [Fact]
    public void NixTimeoutOfZeroIsNamed()
    {
        var error = BindFails(new() { ["NIX_TIMEOUT"] = "0" });

        Assert.Equal(["NIX_TIMEOUT is '0'; it must be a whole number from 1 to 86400."], error.Errors);
    }

    [Fact]
    public void NixPathWithoutPrepareImageIsNamed()
    {
        var error = BindFails(new() { ["NIXERY_NIX_PATH"] = _pkgs });

        Assert.Equal(
            [$"NIXERY_NIX_PATH is '{_pkgs}', which has no prepare-image.nix; it must name the repository's nix/ folder."],
            error.Errors);
    }

    [Fact]
    public void MissingPopularityFileIsNamed()
    {
        var error = BindFails(new() { ["NIX_POPULARITY_URL"] = _folder.Combine("nope.json") });

        Assert.StartsWith("NIX_POPULARITY_URL is ", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownStorageBackendIsNamed()
    {
        var error = BindFails(new() { ["NIXERY_STORAGE_BACKEND"] = "s3" });

        Assert.StartsWith("NIXERY_STORAGE_BACKEND is 's3'", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownLayeringIsNamed()
    {
        var error = BindFails(new() { ["NIXERY_LAYERING"] = "dominator" });

        Assert.Equal(["NIXERY_LAYERING is 'dominator'; it must be 'stable' or 'nixery'."], error.Errors);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("257")]
    [InlineData("all")]
    public void PackConcurrencyOutOfRangeIsNamed(string value)
    {
        var error = BindFails(new() { ["NIXERY_PACK_CONCURRENCY"] = value });

        Assert.Equal([$"NIXERY_PACK_CONCURRENCY is '{value}'; it must be a whole number from 1 to 256."], error.Errors);
    }

    [Fact]
    public void EveryWrongSettingIsListedAtOnce()
    {
        var error = BindFails(
            new()
            {
                ["PORT"] = "abc",
                ["NIX_TIMEOUT"] = "0",
                ["NIXERY_RETRY_AFTER"] = "0",
                ["NIXERY_LAYER_BUDGET"] = "500",
                ["NIXERY_NIX_PATH"] = _nix,
            },
            withPaths: false);

        Assert.Equal(5, error.Errors.Count);
        Assert.Equal("PORT is 'abc'; it must be a whole number from 1 to 65535.", error.Errors[0]);
        Assert.Equal("NIX_TIMEOUT is '0'; it must be a whole number from 1 to 86400.", error.Errors[1]);
        Assert.Equal("NIXERY_RETRY_AFTER is '0'; it must be a whole number from 1 to 3600.", error.Errors[2]);
        Assert.Equal("NIXERY_LAYER_BUDGET is '500'; it must be a whole number from 2 to 125.", error.Errors[3]);
        Assert.StartsWith("No package source is set; set NIXERY_PKGS_PATH", error.Errors[4], StringComparison.Ordinal);
        foreach (var name in new[] { "PORT", "NIX_TIMEOUT", "NIXERY_RETRY_AFTER", "NIXERY_LAYER_BUDGET", "NIXERY_PKGS_PATH" })
        {
            Assert.Contains(name, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void BlankSettingsFallBackToDefaults()
    {
        var options = Bind(new() { ["PORT"] = "  ", ["STORAGE_PATH"] = "" });

        Assert.Equal(8080, options.Port);
        Assert.Equal(".state/storage", options.StoragePath);
    }
}
