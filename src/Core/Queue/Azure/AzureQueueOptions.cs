// The settings of the Azure Storage Queue backend, read from configuration and checked once
// at start-up: a wrong or missing setting adds one sentence that names it and says what it
// should be (STYLE.md §8), so the caller can report every problem at once. Only the HTTP side
// uses them (it sends jobs); how the build function receives them is the queue trigger's
// business (src/Worker/host.json).
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Nixery.Core.Options;

namespace Nixery.Core.Queue.Azure;

public sealed partial record AzureQueueOptions
{
    public const string DefaultQueueName = "nixery-builds";

    /// <summary>Appended to <see cref="QueueName"/> for the queue of jobs that will not be retried.</summary>
    public const string PoisonSuffix = "-poison";

    /// <summary>Azure allows 63 characters; the poison queue's name must fit too.</summary>
    public const int MaxQueueNameLength = 63 - 6;

    /// <summary>NIXERY_QUEUE_NAME: the queue of build jobs; the poison queue is this name + "-poison".</summary>
    public string QueueName { get; init; } = DefaultQueueName;

    public string PoisonQueueName => QueueName + PoisonSuffix;

    /// <summary>AZURE_STORAGE_CONNECTION_STRING: account key or SAS connection string (Azurite, local runs).</summary>
    public string? ConnectionString { get; init; }

    /// <summary>AZURE_STORAGE_QUEUE_URL: the account's queue endpoint, https://&lt;account&gt;.queue.core.windows.net,
    /// reached with DefaultAzureCredential (managed identity in Azure).</summary>
    public Uri? QueueServiceUri { get; init; }

    /// <summary>AZURE_CLIENT_ID: the client id of a user-assigned managed identity, when one is used.</summary>
    public string? ManagedIdentityClientId { get; init; }

    /// <summary>Queue names: 3–63 characters, lower-case letters, digits and single hyphens,
    /// starting and ending with a letter or digit (Azure's naming rules for queues).</summary>
    public static bool IsValidQueueName(string name) =>
        name.Length is >= 3 and <= 63 && QueueNameGrammar().IsMatch(name);

    /// <summary>Throws if the object could not work at all; the configuration parser reports
    /// the same problems as sentences instead.</summary>
    public void Validate()
    {
        if (!IsValidQueueName(QueueName) || QueueName.Length > MaxQueueNameLength)
        {
            throw new ArgumentException($"queue name '{QueueName}' is not valid: 3 to {MaxQueueNameLength} lower-case letters, digits and single hyphens, starting and ending with a letter or digit");
        }
    }

    /// <summary>A client for the account. Messages are encoded by <see cref="AzureStorageQueue"/>
    /// itself (Base64 of UTF-8 JSON), so the client is left at <see cref="QueueMessageEncoding.None"/>.</summary>
    public QueueServiceClient CreateServiceClient()
    {
        var clientOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None };
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

    public static AzureQueueOptions FromConfiguration(IConfiguration config, List<string> errors)
    {
        var defaults = new AzureQueueOptions();

        var name = Settings.NonEmpty(config["NIXERY_QUEUE_NAME"]) ?? defaults.QueueName;
        if (!IsValidQueueName(name) || name.Length > MaxQueueNameLength)
        {
            errors.Add($"NIXERY_QUEUE_NAME is '{name}'; it must be 3 to {MaxQueueNameLength} lower-case letters, digits and single hyphens, starting and ending with a letter or digit (the poison queue adds '{PoisonSuffix}').");
            name = defaults.QueueName;
        }

        var connectionString = Settings.NonEmpty(config["AZURE_STORAGE_CONNECTION_STRING"]);
        var url = Settings.NonEmpty(config["AZURE_STORAGE_QUEUE_URL"]);
        Uri? serviceUri = null;
        if (connectionString is not null && url is not null)
        {
            errors.Add("AZURE_STORAGE_CONNECTION_STRING and AZURE_STORAGE_QUEUE_URL are both set; set only one of them.");
        }
        else if (connectionString is not null)
        {
            try
            {
                _ = new QueueServiceClient(connectionString);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                errors.Add("AZURE_STORAGE_CONNECTION_STRING is not a valid storage connection string; it must look like 'DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…' or hold a QueueEndpoint.");
            }
        }
        else if (url is not null)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out serviceUri) || serviceUri.Scheme != Uri.UriSchemeHttps || serviceUri.Query.Length > 0 || serviceUri.Fragment.Length > 0)
            {
                errors.Add($"AZURE_STORAGE_QUEUE_URL is '{url}'; it must be the account's https queue endpoint without a query, e.g. https://<account>.queue.core.windows.net.");
                serviceUri = null;
            }
        }
        else
        {
            errors.Add("neither AZURE_STORAGE_CONNECTION_STRING nor AZURE_STORAGE_QUEUE_URL is set; set one of them to reach the storage account's queues.");
        }

        return new AzureQueueOptions
        {
            QueueName = name,
            ConnectionString = connectionString,
            QueueServiceUri = serviceUri,
            ManagedIdentityClientId = Settings.NonEmpty(config["AZURE_CLIENT_ID"]),
        };
    }

    // Letters or digits, with single hyphens between them.
    [GeneratedRegex(@"^[a-z0-9]+(-[a-z0-9]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex QueueNameGrammar();
}
