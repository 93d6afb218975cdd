// The Azure Blob settings: defaults, one sentence per wrong setting that names it, and the
// container client each way in produces. No Azurite needed: nothing here talks to a service.
using Microsoft.Extensions.Configuration;
using Nixery.Core.Azure;
using Nixery.Core.Options;

namespace Nixery.Core.Tests.Storage;

public sealed class AzureStorageOptionsTests
{
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Key};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";

    /// <summary>The options as start-up checks and binds them: the errors, and the options bound
    /// from the settings that parsed (a wrong one keeps its default).</summary>
    private static (AzureStorageOptions Options, IReadOnlyList<string> Errors) Bind(Dictionary<string, string?> settings)
    {
        var config = new ConfigurationManager();
        config.AddInMemoryCollection(settings);
        config.Normalise();
        var errors = Settings.Check(config, [typeof(AzureStorageOptions)]);
        var parsed = new ConfigurationBuilder().AddInMemoryCollection(settings.Where(s => !errors.Any(e => e.StartsWith(s.Key + " is '", StringComparison.Ordinal)))).Build();
        return (Settings.Bind<AzureStorageOptions>(parsed), errors);
    }

    [Fact]
    public void ConnectionStringAloneGivesTheDocumentedDefaults()
    {
        var (options, errors) = Bind(new() { ["AZURE_STORAGE_CONNECTION_STRING"] = ConnectionString });

        Assert.Empty(errors);
        Assert.Equal(
            (ConnectionString, (string?)null, (string?)null, "nixery", TimeSpan.FromSeconds(600)),
            (options.ConnectionString, options.BlobUrl, options.ClientId, options.Container, options.SasExpiry));
    }

    [Fact]
    public void BlobUrlWithClientIdContainerAndExpiryIsRead()
    {
        var (options, errors) = Bind(new()
        {
            ["AZURE_STORAGE_BLOB_URL"] = "https://acct.blob.core.windows.net",
            ["AZURE_CLIENT_ID"] = "00000000-0000-0000-0000-000000000001",
            ["NIXERY_STORAGE_CONTAINER"] = "registry-01",
            ["NIXERY_SAS_EXPIRY"] = "120",
        });

        Assert.Empty(errors);
        Assert.Equal(
            ((string?)null, new Uri("https://acct.blob.core.windows.net"), "00000000-0000-0000-0000-000000000001", "registry-01", TimeSpan.FromSeconds(120)),
            (options.ConnectionString, options.BlobUri, options.ClientId, options.Container, options.SasExpiry));
    }

    [Fact]
    public void NeitherConnectionStringNorBlobUrlIsOneErrorNamingBoth()
    {
        var (_, errors) = Bind([]);

        var error = Assert.Single(errors);
        Assert.Contains("AZURE_STORAGE_CONNECTION_STRING", error, StringComparison.Ordinal);
        Assert.Contains("AZURE_STORAGE_BLOB_URL", error, StringComparison.Ordinal);
    }

    [Fact]
    public void BothConnectionStringAndBlobUrlIsAnError()
    {
        var (_, errors) = Bind(new()
        {
            ["AZURE_STORAGE_CONNECTION_STRING"] = ConnectionString,
            ["AZURE_STORAGE_BLOB_URL"] = "https://acct.blob.core.windows.net",
        });

        Assert.Equal(["Both AZURE_STORAGE_CONNECTION_STRING and AZURE_STORAGE_BLOB_URL are set; set exactly one of them."], errors);
    }

    [Fact]
    public void AMalformedConnectionStringIsNamedWithoutEchoingIt()
    {
        var (_, errors) = Bind(new() { ["AZURE_STORAGE_CONNECTION_STRING"] = "AccountKey=hunter2-not-a-connection-string" });

        var error = Assert.Single(errors);
        Assert.StartsWith("AZURE_STORAGE_CONNECTION_STRING is not a valid storage connection string", error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://acct.blob.core.windows.net")]
    [InlineData("acct.blob.core.windows.net")]
    [InlineData("https://acct.blob.core.windows.net/?sv=2021&sig=x")]
    public void ABlobUrlThatIsNotPlainHttpsIsNamed(string url)
    {
        var (_, errors) = Bind(new() { ["AZURE_STORAGE_BLOB_URL"] = url });

        Assert.Equal([$"AZURE_STORAGE_BLOB_URL is '{url}'; it must be the account's https blob endpoint without a query, e.g. https://<account>.blob.core.windows.net."], errors);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("nixery")]
    [InlineData("a-b-c")]
    [InlineData("registry-01")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890ab")]
    public void ValidContainerNamesAreAccepted(string name)
    {
        var (options, errors) = Bind(new() { ["AZURE_STORAGE_CONNECTION_STRING"] = ConnectionString, ["NIXERY_STORAGE_CONTAINER"] = name });

        Assert.Empty(errors);
        Assert.Equal(name, options.Container);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890abc")]
    [InlineData("Nixery")]
    [InlineData("a--b")]
    [InlineData("-abc")]
    [InlineData("abc-")]
    [InlineData("a_b")]
    [InlineData("a.b")]
    public void InvalidContainerNamesAreNamed(string name)
    {
        var (_, errors) = Bind(new() { ["AZURE_STORAGE_CONNECTION_STRING"] = ConnectionString, ["NIXERY_STORAGE_CONTAINER"] = name });

        Assert.Equal([$"NIXERY_STORAGE_CONTAINER is '{name}'; it must be 3 to 63 characters of lower-case letters, digits and single hyphens, starting and ending with a letter or digit."], errors);
    }

    [Theory]
    [InlineData("59")]
    [InlineData("86401")]
    [InlineData("ten")]
    [InlineData("1.5")]
    public void SasExpiryOutsideOneMinuteToOneDayIsNamed(string seconds)
    {
        var (options, errors) = Bind(new() { ["AZURE_STORAGE_CONNECTION_STRING"] = ConnectionString, ["NIXERY_SAS_EXPIRY"] = seconds });

        Assert.Equal([$"NIXERY_SAS_EXPIRY is '{seconds}'; it must be a whole number of seconds from 60 to 86400."], errors);
        Assert.Equal(TimeSpan.FromSeconds(600), options.SasExpiry);
    }

    [Theory]
    [InlineData("60", 60)]
    [InlineData("86400", 86400)]
    public void SasExpiryAtTheLimitsIsAccepted(string text, int seconds)
    {
        var (options, errors) = Bind(new() { ["AZURE_STORAGE_CONNECTION_STRING"] = ConnectionString, ["NIXERY_SAS_EXPIRY"] = text });

        Assert.Empty(errors);
        Assert.Equal(TimeSpan.FromSeconds(seconds), options.SasExpiry);
    }

    [Fact]
    public void EveryWrongSettingIsReportedAtOnce()
    {
        var (_, errors) = Bind(new() { ["NIXERY_STORAGE_CONTAINER"] = "X", ["NIXERY_SAS_EXPIRY"] = "0" });

        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("Neither AZURE_STORAGE_CONNECTION_STRING", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("NIXERY_STORAGE_CONTAINER is 'X'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("NIXERY_SAS_EXPIRY is '0'", StringComparison.Ordinal));
    }

    [Fact]
    public void ConnectionStringGivesASharedKeyClientForTheContainer()
    {
        var client = new AzureStorageOptions { ConnectionString = ConnectionString, Container = "images" }.CreateContainerClient();

        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1/images"), client.Uri);
        Assert.Equal("devstoreaccount1", client.AccountName);
        Assert.True(client.CanGenerateSasUri);
    }

    [Fact]
    public void BlobUrlGivesAnIdentityClientThatCannotSignWithAKey()
    {
        var client = new AzureStorageOptions { BlobUrl = "https://acct.blob.core.windows.net/", Container = "nixery" }.CreateContainerClient();

        Assert.Equal(new Uri("https://acct.blob.core.windows.net/nixery"), client.Uri);
        Assert.Equal("acct", client.AccountName);
        Assert.False(client.CanGenerateSasUri);
    }
}
