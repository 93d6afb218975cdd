// The settings of the Azure Blob backend, bound from configuration and checked at start-up
// like RegistryOptions: every wrong or missing setting becomes one sentence that names it.
// Two ways in, exactly one of which must be set:
//   AZURE_STORAGE_CONNECTION_STRING  a shared-key connection string (Azurite, local runs);
//   AZURE_STORAGE_BLOB_URL           https://<account>.blob.core.windows.net, authorised by a
//                                    managed identity (AZURE_CLIENT_ID picks a user-assigned
//                                    one; without it DefaultAzureCredential decides).
// The identity needs "Storage Blob Data Contributor" on the account, which also covers
// the user delegation key that signs redirect URLs (infra/ grants it).
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Nixery.Core.Options;

namespace Nixery.Core.Storage.Azure;

public sealed partial record AzureStorageOptions
{
    public const string DefaultContainer = "nixery";

    public static readonly TimeSpan DefaultSasExpiry = TimeSpan.FromSeconds(600);

    /// <summary>AZURE_STORAGE_CONNECTION_STRING: a connection string with an account key.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>AZURE_STORAGE_BLOB_URL: the account's blob endpoint, used with a managed identity.</summary>
    public Uri? BlobUrl { get; init; }

    /// <summary>AZURE_CLIENT_ID: the client id of a user-assigned managed identity (optional).</summary>
    public string? ClientId { get; init; }

    /// <summary>NIXERY_STORAGE_CONTAINER: the one container that holds the storage layout.</summary>
    public string Container { get; init; } = DefaultContainer;

    /// <summary>NIXERY_SAS_EXPIRY: seconds a redirect (SAS) URL stays valid.</summary>
    public TimeSpan SasExpiry { get; init; } = DefaultSasExpiry;

    /// <summary>Reads the settings, adding one sentence to <paramref name="errors"/> per
    /// wrong or missing one. Call it only when the Azure backend is chosen.</summary>
    public static AzureStorageOptions FromConfiguration(IConfiguration config, List<string> errors)
    {
        var connectionString = Settings.NonEmpty(config["AZURE_STORAGE_CONNECTION_STRING"]);
        var blobUrlText = Settings.NonEmpty(config["AZURE_STORAGE_BLOB_URL"]);
        var options = new AzureStorageOptions
        {
            ConnectionString = connectionString,
            ClientId = Settings.NonEmpty(config["AZURE_CLIENT_ID"]),
            Container = Settings.NonEmpty(config["NIXERY_STORAGE_CONTAINER"]) ?? DefaultContainer,
            // 60 s at least (a client may start the download a little later); one day at most,
            // which keeps a user delegation key (valid for at most 7 days) comfortably longer.
            SasExpiry = TimeSpan.FromSeconds(Settings.Int(config, "NIXERY_SAS_EXPIRY", (int)DefaultSasExpiry.TotalSeconds, 60, 86400, errors, unit: "seconds")),
        };

        if (connectionString is null && blobUrlText is null)
        {
            errors.Add("Neither AZURE_STORAGE_CONNECTION_STRING nor AZURE_STORAGE_BLOB_URL is set; the Azure backend needs exactly one of them (the blob URL, e.g. https://<account>.blob.core.windows.net, for a managed identity).");
        }
        else if (connectionString is not null && blobUrlText is not null)
        {
            errors.Add("Both AZURE_STORAGE_CONNECTION_STRING and AZURE_STORAGE_BLOB_URL are set; set exactly one of them.");
        }

        if (connectionString is not null && !IsConnectionString(connectionString))
        {
            // Never echo the value: it holds the account key.
            errors.Add("AZURE_STORAGE_CONNECTION_STRING is not a valid storage connection string; it must look like DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net.");
        }

        if (blobUrlText is not null)
        {
            if (Uri.TryCreate(blobUrlText, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttps && string.IsNullOrEmpty(url.Query))
            {
                options = options with { BlobUrl = url };
            }
            else
            {
                // https only: Azure.Core refuses to send a bearer token over plain http.
                errors.Add($"AZURE_STORAGE_BLOB_URL is '{blobUrlText}'; it must be the account's https blob endpoint without a query, e.g. https://<account>.blob.core.windows.net.");
            }
        }

        if (!IsContainerName(options.Container))
        {
            errors.Add($"NIXERY_STORAGE_CONTAINER is '{options.Container}'; it must be 3 to 63 characters of lower-case letters, digits and single hyphens, starting and ending with a letter or digit.");
        }

        return options;
    }

    /// <summary>The container client for these settings; no network call is made here.</summary>
    public BlobContainerClient CreateContainerClient()
    {
        if (ConnectionString is not null)
        {
            return new BlobContainerClient(ConnectionString, Container);
        }

        if (BlobUrl is null)
        {
            throw new InvalidOperationException("AzureStorageOptions has neither a connection string nor a blob URL.");
        }

        TokenCredential credential = ClientId is not null
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(ClientId))
            : new DefaultAzureCredential();
        var containerUrl = new Uri(BlobUrl.AbsoluteUri.TrimEnd('/') + "/" + Container);
        return new BlobContainerClient(containerUrl, credential);
    }

    /// <summary>Azure's container-name rule: 3–63 characters, lower-case letters, digits and
    /// hyphens, starting and ending with a letter or digit, no two hyphens in a row.</summary>
    public static bool IsContainerName(string name) => ContainerName().IsMatch(name);

    [GeneratedRegex("^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex ContainerName();

    private static bool IsConnectionString(string value)
    {
        try
        {
            // Parses only; the client talks to nobody until it is used.
            _ = new BlobServiceClient(value);
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
