// Start-up settings, per part: each options class binds its settings with their documented
// defaults, and every wrong setting is one sentence naming it, all reported at once.
using Microsoft.Extensions.Configuration;
using Nixery.Builder;
using Nixery.Core.Azure;
using Nixery.Core.Options;
using Nixery.Core.Sources;
using Nixery.Embedded;
using Nixery.Functions.Builds;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Options;

public sealed class SettingsTests : IDisposable
{
    /// <summary>What the embedded default reads (filesystem storage).</summary>
    private static readonly Type[] Embedded =
        [typeof(StorageOptions), typeof(SourceOptions), typeof(StatusOptions), typeof(BuildWaitOptions), typeof(BuildOptions), typeof(EmbeddedOptions)];

    private readonly TempDir _folder = new();

    private readonly string _pkgs;

    private readonly string _nix;

    public SettingsTests()
    {
        _pkgs = _folder.Combine("pkgset");
        Directory.CreateDirectory(_pkgs);
        File.WriteAllText(Path.Combine(_pkgs, "default.nix"), "{}");
        _nix = _folder.Combine("nix");
        Directory.CreateDirectory(_nix);
        File.WriteAllText(Path.Combine(_nix, "prepare-image.nix"), "{}");
    }

    public void Dispose() => _folder.Dispose();

    private IConfiguration Config(Dictionary<string, string?> settings, bool withPaths = true)
    {
        if (withPaths)
        {
            settings.TryAdd("NIXERY_PKGS_PATH", _pkgs);
            settings.TryAdd("NIXERY_NIX_PATH", _nix);
        }

        var config = new ConfigurationManager();
        config.AddInMemoryCollection(settings);
        config.Normalise();
        return config;
    }

    private T Bind<T>(Dictionary<string, string?> settings)
        where T : class, new()
    {
        var config = Config(settings);
        Assert.Empty(Settings.Check(config, Embedded));
        return Settings.Bind<T>(config);
    }

    private IReadOnlyList<string> Errors(Dictionary<string, string?> settings, bool withPaths = true) =>
        Settings.Check(Config(settings, withPaths), Embedded);

    [Fact]
    public void OptionsHaveTheDocumentedDefaults()
    {
        var storage = Bind<StorageOptions>([]);
        var sources = Bind<SourceOptions>([]);
        var status = Bind<StatusOptions>([]);
        var wait = Bind<BuildWaitOptions>([]);
        var build = Bind<BuildOptions>([]);
        var embedded = Bind<EmbeddedOptions>([]);

        Assert.Equal(("filesystem", ".state/storage", 3600), (storage.Backend, storage.Path, storage.StagingMaxAgeSeconds));
        Assert.Equal([new SourceDefinition("default", "path", _pkgs)], sources.Sources);
        Assert.Equal(TimeSpan.FromSeconds(60), sources.RevisionCacheFor);
        Assert.Equal((TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15)), (status.FailureTtl, status.BuildStaleAfter));
        Assert.Equal((TimeSpan.FromSeconds(20), 5), (wait.BuildWait, wait.RetryAfterSeconds));
        Assert.Equal(
            (TimeSpan.FromSeconds(60), (string?)null, 94, "stable", TimeSpan.FromSeconds(120), Environment.ProcessorCount, ".state/sources", _nix),
            (build.NixTimeout, build.PopularityUrl, build.LayerBudget, build.Layering, build.LayerClaimTtl, build.PackConcurrency, build.SourceCachePath, build.NixExpressionsPath));
        Assert.Equal((8080, 1, 3), (embedded.Port, embedded.Workers, embedded.MaxDequeueCount));
    }

    [Fact]
    public void OptionsBindEverySetting()
    {
        var popularity = _folder.Combine("popularity.json");
        File.WriteAllText(popularity, "{}");
        var settings = new Dictionary<string, string?>
        {
            ["PORT"] = "9000",
            ["STORAGE_PATH"] = "/srv/nixery",
            ["NIXERY_STAGING_MAX_AGE"] = "10",
            ["NIX_TIMEOUT"] = "30",
            ["NIX_POPULARITY_URL"] = "file://" + popularity,
            ["NIXERY_BUILD_WAIT"] = "0",
            ["NIXERY_RETRY_AFTER"] = "7",
            ["NIXERY_FAILURE_TTL"] = "60",
            ["NIXERY_BUILD_STALE"] = "120",
            ["NIXERY_REVISION_CACHE"] = "0",
            ["NIXERY_LAYER_BUDGET"] = "50",
            ["NIXERY_LAYERING"] = "nixery",
            ["NIXERY_LAYER_CLAIM_TTL"] = "9",
            ["NIXERY_WORKERS"] = "0",
            ["NIXERY_MAX_DEQUEUE"] = "4",
            ["NIXERY_PACK_CONCURRENCY"] = "3",
            ["NIXERY_SOURCE_CACHE"] = "/srv/sources",
        };

        var storage = Bind<StorageOptions>(settings);
        var status = Bind<StatusOptions>(settings);
        var wait = Bind<BuildWaitOptions>(settings);
        var build = Bind<BuildOptions>(settings);
        var embedded = Bind<EmbeddedOptions>(settings);

        Assert.Equal(("/srv/nixery", TimeSpan.FromSeconds(10)), (storage.Path, storage.StagingMaxAge));
        Assert.Equal(TimeSpan.Zero, Bind<SourceOptions>(settings).RevisionCacheFor);
        Assert.Equal((TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(120)), (status.FailureTtl, status.BuildStaleAfter));
        Assert.Equal((TimeSpan.Zero, 7), (wait.BuildWait, wait.RetryAfterSeconds));
        Assert.Equal(
            (TimeSpan.FromSeconds(30), popularity, 50, "nixery", TimeSpan.FromSeconds(9), 3, "/srv/sources"),
            (build.NixTimeout, build.PopularityPath, build.LayerBudget, build.Layering, build.LayerClaimTtl, build.PackConcurrency, build.SourceCachePath));
        Assert.Equal((9000, 0, 4), (embedded.Port, embedded.Workers, embedded.MaxDequeueCount));
    }

    [Fact]
    public void PortThatIsNotANumberNamesPort()
    {
        Assert.Equal(["PORT is 'abc'; it must be a whole number from 1 to 65535."], Errors(new() { ["PORT"] = "abc" }));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-1")]
    [InlineData("8080.5")]
    public void PortOutOfRangeNamesPort(string port)
    {
        Assert.Equal([$"PORT is '{port}'; it must be a whole number from 1 to 65535."], Errors(new() { ["PORT"] = port }));
    }

    [Fact]
    public void FunctionsCustomHandlerPortIsNoLongerRead()
    {
        Assert.Equal(9000, Bind<EmbeddedOptions>(new() { ["PORT"] = "9000", ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "41234" }).Port);
    }

    [Fact]
    public void MissingPackageSetPathIsNamed()
    {
        var message = Assert.Single(Errors(new() { ["NIXERY_NIX_PATH"] = _nix }, withPaths: false));

        Assert.StartsWith("No package source is set; set NIXERY_PKGS_PATH to a package set folder", message, StringComparison.Ordinal);
    }

    [Fact]
    public void PackageSetPathWithoutDefaultNixIsNamed()
    {
        var empty = _folder.Combine("empty");
        Directory.CreateDirectory(empty);

        Assert.Equal(
            [$"NIXERY_PKGS_PATH is '{empty}', which has no default.nix; it must name a package set folder (run scripts/setup to make .state/pkgset)."],
            Errors(new() { ["NIXERY_PKGS_PATH"] = empty }));
    }

    [Fact]
    public void NixTimeoutOfZeroIsNamed()
    {
        Assert.Equal(["NIX_TIMEOUT is '0'; it must be a whole number from 1 to 86400."], Errors(new() { ["NIX_TIMEOUT"] = "0" }));
    }

    [Fact]
    public void NixPathWithoutPrepareImageIsNamed()
    {
        Assert.Equal(
            [$"NIXERY_NIX_PATH is '{_pkgs}', which has no prepare-image.nix; it must name the repository's nix/ folder."],
            Errors(new() { ["NIXERY_NIX_PATH"] = _pkgs }));
    }

    [Fact]
    public void MissingPopularityFileIsNamed()
    {
        Assert.StartsWith("NIX_POPULARITY_URL is ", Assert.Single(Errors(new() { ["NIX_POPULARITY_URL"] = _folder.Combine("nope.json") })), StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownStorageBackendIsNamed()
    {
        Assert.Equal(["NIXERY_STORAGE_BACKEND is 's3'; it must be 'filesystem' or 'azure'."], Errors(new() { ["NIXERY_STORAGE_BACKEND"] = "s3" }));
    }

    [Fact]
    public void UnknownLayeringIsNamed()
    {
        Assert.Equal(["NIXERY_LAYERING is 'dominator'; it must be 'stable' or 'nixery'."], Errors(new() { ["NIXERY_LAYERING"] = "dominator" }));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("257")]
    [InlineData("all")]
    public void PackConcurrencyOutOfRangeIsNamed(string value)
    {
        Assert.Equal([$"NIXERY_PACK_CONCURRENCY is '{value}'; it must be a whole number from 1 to 256."], Errors(new() { ["NIXERY_PACK_CONCURRENCY"] = value }));
    }

    [Fact]
    public void RevisionCacheOutOfRangeNamesItsUnit()
    {
        Assert.Equal(["NIXERY_REVISION_CACHE is 'soon'; it must be a whole number of seconds from 0 to 86400."], Errors(new() { ["NIXERY_REVISION_CACHE"] = "soon" }));
    }

    [Fact]
    public void EveryWrongSettingIsListedAtOnce()
    {
        var errors = Errors(
            new()
            {
                ["PORT"] = "abc",
                ["NIX_TIMEOUT"] = "0",
                ["NIXERY_RETRY_AFTER"] = "0",
                ["NIXERY_LAYER_BUDGET"] = "500",
                ["NIXERY_NIX_PATH"] = _nix,
            },
            withPaths: false);

        Assert.Equal(5, errors.Count);
        Assert.StartsWith("No package source is set; set NIXERY_PKGS_PATH", errors[0], StringComparison.Ordinal);
        Assert.Equal("NIXERY_RETRY_AFTER is '0'; it must be a whole number from 1 to 3600.", errors[1]);
        Assert.Equal("NIX_TIMEOUT is '0'; it must be a whole number from 1 to 86400.", errors[2]);
        Assert.Equal("NIXERY_LAYER_BUDGET is '500'; it must be a whole number from 2 to 125.", errors[3]);
        Assert.Equal("PORT is 'abc'; it must be a whole number from 1 to 65535.", errors[4]);
    }

    [Fact]
    public void BlankSettingsFallBackToDefaultsAndValuesAreTrimmed()
    {
        var settings = new Dictionary<string, string?> { ["PORT"] = "  ", ["STORAGE_PATH"] = "", ["NIXERY_LAYERING"] = " nixery " };

        Assert.Equal(8080, Bind<EmbeddedOptions>(settings).Port);
        Assert.Equal(".state/storage", Bind<StorageOptions>(settings).Path);
        Assert.Equal("nixery", Bind<BuildOptions>(settings).Layering);
    }

    [Fact]
    public void HttpFunctionAppNeedsTheQueueButNoNixExpressions()
    {
        var config = Config(new() { ["NIXERY_NIX_PATH"] = _folder.Combine("nowhere") });
        Type[] http = [typeof(StorageOptions), typeof(SourceOptions), typeof(StatusOptions), typeof(BuildWaitOptions), typeof(AzureQueueOptions)];

        var errors = Settings.Check(config, http);

        Assert.StartsWith("neither AZURE_STORAGE_CONNECTION_STRING nor AZURE_STORAGE_QUEUE_URL is set", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void BuildFunctionAppNeedsTheNixExpressionsButNoSources()
    {
        var config = Config(new() { ["NIXERY_NIX_PATH"] = _pkgs }, withPaths: false);

        var errors = Settings.Check(config, [typeof(StorageOptions), .. BuilderServiceCollectionExtensions.SettingTypes]);

        Assert.StartsWith("NIXERY_NIX_PATH is ", Assert.Single(errors), StringComparison.Ordinal);
    }
}
