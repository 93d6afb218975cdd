// The Azure queue's settings: defaults, the documented ranges, one sentence per wrong or
// missing setting. No Azurite needed.
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Nixery.Core.Names;
using Nixery.Core.Queue;
using Nixery.Core.Azure;
using Nixery.Core.Options;

namespace Nixery.Core.Tests.Queue;

public sealed class AzureQueueOptionsTests
{
    private const string Azurite = "UseDevelopmentStorage=true";

    /// <summary>The options as start-up checks and binds them.</summary>
    private static (AzureQueueOptions Options, IReadOnlyList<string> Errors) Parse(params (string Key, string Value)[] settings)
    {
        var config = new ConfigurationManager();
        config.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        config.Normalise();
        return (Settings.Bind<AzureQueueOptions>(config), Settings.Check(config, [typeof(AzureQueueOptions)]));
    }

    [Fact]
    public void DefaultsWithAConnectionString()
    {
        var (options, errors) = Parse(("AZURE_STORAGE_CONNECTION_STRING", Azurite));

        Assert.Empty(errors);
        Assert.Equal(
            ("nixery-builds", Azurite, (string?)null, (string?)null),
            (options.QueueName, options.ConnectionString, options.QueueUrl, options.ManagedIdentityClientId));
        Assert.Equal("nixery-builds-poison", options.PoisonQueueName);
    }

    [Fact]
    public void SettingsAreRead()
    {
        var (options, errors) = Parse(
            ("AZURE_STORAGE_QUEUE_URL", "https://acct.queue.core.windows.net"),
            ("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001"),
            ("NIXERY_QUEUE_NAME", "builds-2"));

        Assert.Empty(errors);
        Assert.Equal(
            ("builds-2", (string?)null, new Uri("https://acct.queue.core.windows.net"), "00000000-0000-0000-0000-000000000001"),
            (options.QueueName, options.ConnectionString, options.QueueServiceUri, options.ManagedIdentityClientId));
    }

    [Fact]
    public void MissingConnectionIsOneSentenceNamingBothSettings()
    {
        var (_, errors) = Parse();

        var error = Assert.Single(errors);
        Assert.Contains("AZURE_STORAGE_CONNECTION_STRING", error, StringComparison.Ordinal);
        Assert.Contains("AZURE_STORAGE_QUEUE_URL", error, StringComparison.Ordinal);
    }

    [Fact]
    public void BothConnectionsAtOnceAreRefused()
    {
        var (_, errors) = Parse(("AZURE_STORAGE_CONNECTION_STRING", Azurite), ("AZURE_STORAGE_QUEUE_URL", "https://acct.queue.core.windows.net"));

        Assert.Equal(["AZURE_STORAGE_CONNECTION_STRING and AZURE_STORAGE_QUEUE_URL are both set; set only one of them."], errors);
    }

    [Theory]
    [InlineData("http://acct.queue.core.windows.net")]
    [InlineData("acct.queue.core.windows.net")]
    [InlineData("https://acct.queue.core.windows.net/?sv=2020&sig=x")]
    public void QueueUrlMustBeAnHttpsEndpoint(string url)
    {
        var (options, errors) = Parse(("AZURE_STORAGE_QUEUE_URL", url));

        var error = Assert.Single(errors);
        Assert.StartsWith($"AZURE_STORAGE_QUEUE_URL is '{url}'; it must be", error, StringComparison.Ordinal);
        Assert.Null(options.QueueServiceUri);
    }

    [Fact]
    public void MalformedConnectionStringIsNamed()
    {
        var (_, errors) = Parse(("AZURE_STORAGE_CONNECTION_STRING", "not a connection string"));

        var error = Assert.Single(errors);
        Assert.StartsWith("AZURE_STORAGE_CONNECTION_STRING is not a valid storage connection string", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("Nixery-builds")]
    [InlineData("nixery--builds")]
    [InlineData("-nixery")]
    [InlineData("nixery-")]
    [InlineData("nixery_builds")]
    [InlineData("nixery.builds")]
    [InlineData("a23456789012345678901234567890123456789012345678901234567x")] // 58: no room for "-poison"
    public void BadQueueNamesAreRefused(string name)
    {
        var (_, errors) = Parse(("AZURE_STORAGE_CONNECTION_STRING", Azurite), ("NIXERY_QUEUE_NAME", name));

        var error = Assert.Single(errors);
        Assert.StartsWith($"NIXERY_QUEUE_NAME is '{name}'; it must be 3 to 57 lower-case letters", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("a-b-c")]
    [InlineData("123")]
    [InlineData("a2345678901234567890123456789012345678901234567890123456x")] // 57
    public void GoodQueueNamesAreAccepted(string name)
    {
        var (options, errors) = Parse(("AZURE_STORAGE_CONNECTION_STRING", Azurite), ("NIXERY_QUEUE_NAME", name));

        Assert.Empty(errors);
        Assert.Equal(name, options.QueueName);
    }

    [Fact]
    public void EveryWrongSettingGetsItsOwnSentence()
    {
        var (_, errors) = Parse(("NIXERY_QUEUE_NAME", "X"));

        Assert.Equal(2, errors.Count);
        Assert.Single(errors, e => e.StartsWith("NIXERY_QUEUE_NAME", StringComparison.Ordinal));
        Assert.Single(errors, e => e.StartsWith("neither AZURE_STORAGE_CONNECTION_STRING", StringComparison.Ordinal));
    }

    [Fact]
    public void ServiceClientComesFromTheConnectionStringOrTheUrl()
    {
        var fromString = new AzureQueueOptions { ConnectionString = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net" }.CreateServiceClient();
        var fromUrl = new AzureQueueOptions { QueueUrl = "https://other.queue.core.windows.net" }.CreateServiceClient();

        Assert.Equal(new Uri("https://acct.queue.core.windows.net/"), fromString.Uri);
        Assert.Equal("acct", fromString.AccountName);
        Assert.Equal(new Uri("https://other.queue.core.windows.net/"), fromUrl.Uri);
        Assert.Throws<InvalidOperationException>(() => new AzureQueueOptions().CreateServiceClient());
    }

    [Fact]
    public void ObjectWithABadQueueNameDoesNotValidate()
    {
        new AzureQueueOptions { QueueName = "good-name" }.Validate();

        Assert.Throws<ArgumentException>(() => new AzureQueueOptions { QueueName = "Bad_Name" }.Validate());
    }

    [Fact]
    public void QueueRefusesInvalidOptions()
    {
        var service = new QueueServiceClient(Azurite);

        Assert.Throws<ArgumentException>(() => new AzureStorageQueue(service, new AzureQueueOptions { QueueName = "no" }));
    }
}
