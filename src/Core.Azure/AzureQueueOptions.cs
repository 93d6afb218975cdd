// The settings of the Azure Storage queue the HTTP function app sends build jobs to, bound and
// checked at start-up like every options class (Settings): a wrong or missing setting adds one
// sentence that names it and says what it should be (STYLE.md §8). Only the HTTP side reads
// them; how the build function receives jobs is the queue trigger's business
// (src/Worker/host.json, and its connection "NixeryStorage").
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Nixery.Core.Options;

namespace Nixery.Core.Azure;

public sealed partial class AzureQueueOptions : ICheckedSettings
{
    public const string DefaultQueueName = "nixery-builds";

    /// <summary>Appended to <see cref="QueueName"/> for the queue of jobs that will not be retried.</summary>
    public const string PoisonSuffix = "-poison";

    /// <summary>Azure allows 63 characters; the poison queue's name must fit too.</summary>
    public const int MaxQueueNameLength = 63 - 6;

    /// <summary>The queue of build jobs; the poison queue is this name + "-poison".</summary>
    [ConfigurationKeyName("NIXERY_QUEUE_NAME")]
    public string QueueName { get; set; } = DefaultQueueName;

    /// <summary>Account key or SAS connection string (Azurite, local runs).</summary>
    [ConfigurationKeyName("AZURE_STORAGE_CONNECTION_STRING")]
    public string? ConnectionString { get; set; }

    /// <summary>The account's queue endpoint, https://&lt;account&gt;.queue.core.windows.net,
    /// reached with DefaultAzureCredential (managed identity in Azure).</summary>
    [ConfigurationKeyName("AZURE_STORAGE_QUEUE_URL")]
    public string? QueueUrl { get; set; }

    /// <summary>The client id of a user-assigned managed identity, when one is used.</summary>
    [ConfigurationKeyName("AZURE_CLIENT_ID")]
    public string? ManagedIdentityClientId { get; set; }

    public string PoisonQueueName => QueueName + PoisonSuffix;

    /// <summary>The queue endpoint, when it is an https URL without a query.</summary>
    public Uri? QueueServiceUri =>
        QueueUrl is not null && Uri.TryCreate(QueueUrl, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && uri.Query.Length == 0 && uri.Fragment.Length == 0 ? uri : null;

    /// <summary>Queue names: 3–63 characters, lower-case letters, digits and single hyphens,
    /// starting and ending with a letter or digit (Azure's naming rules for queues).</summary>
    public static bool IsValidQueueName(string name) =>
        name.Length is >= 3 and <= 63 && QueueNameGrammar().IsMatch(name);

    public void Check(ICollection<string> errors)
    {
        if (!IsValidQueueName(QueueName) || QueueName.Length > MaxQueueNameLength)
        {
            errors.Add($"NIXERY_QUEUE_NAME is '{QueueName}'; it must be 3 to {MaxQueueNameLength} lower-case letters, digits and single hyphens, starting and ending with a letter or digit (the poison queue adds '{PoisonSuffix}').");
        }

        if (ConnectionString is not null && QueueUrl is not null)
        {
            errors.Add("AZURE_STORAGE_CONNECTION_STRING and AZURE_STORAGE_QUEUE_URL are both set; set only one of them.");
        }
        else if (ConnectionString is not null)
        {
            try
            {
                _ = new QueueServiceClient(ConnectionString);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                errors.Add("AZURE_STORAGE_CONNECTION_STRING is not a valid storage connection string; it must look like 'DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…' or hold a QueueEndpoint.");
            }
        }
        else if (QueueUrl is not null)
        {
            if (QueueServiceUri is null)
            {
                errors.Add($"AZURE_STORAGE_QUEUE_URL is '{QueueUrl}'; it must be the account's https queue endpoint without a query, e.g. https://<account>.queue.core.windows.net.");
            }
        }
        else
        {
            errors.Add("neither AZURE_STORAGE_CONNECTION_STRING nor AZURE_STORAGE_QUEUE_URL is set; set one of them to reach the storage account's queues.");
        }
    }

    /// <summary>Throws if the object could not work at all; Check reports the same problems as sentences.</summary>
    public void Validate()
    {
        if (!IsValidQueueName(QueueName) || QueueName.Length > MaxQueueNameLength)
        {
            throw new ArgumentException($"queue name '{QueueName}' is not valid: 3 to {MaxQueueNameLength} lower-case letters, digits and single hyphens, starting and ending with a letter or digit");
        }
    }

    /// <summary>A client for the account. Messages are encoded by <see cref="AzureStorageQueue"/>
    /// itself (Base64 of UTF-8 JSON), so the client is left at <see cref="QueueMessageEncoding.None"/>;
    /// retries and timeouts are StorageCallPolicy's.</summary>
    public QueueServiceClient CreateServiceClient()
    {
        var clientOptions = StorageCallPolicy.Queues();
        if (ConnectionString is { } connectionString)
        {
            return new QueueServiceClient(connectionString, clientOptions);
        }

        if (QueueServiceUri is { } uri)
        {
            // DefaultAzureCredential covers managed identity in Azure and a developer's login
            // locally; a user-assigned identity needs its client id.
            TokenCredential credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions
            {
                ManagedIdentityClientId = ManagedIdentityClientId,
            });
            return new QueueServiceClient(uri, credential, clientOptions);
        }

        throw new InvalidOperationException("no connection: set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_QUEUE_URL");
    }

    // Letters or digits, with single hyphens between them.
    [GeneratedRegex(@"^[a-z0-9]+(-[a-z0-9]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex QueueNameGrammar();
}
