// The settings of the Azure Blob backend (when NIXERY_STORAGE_BACKEND is "azure"), bound and
// checked at start-up like every options class (Settings): each wrong or missing setting
// becomes one sentence that names it. Two ways in, exactly one of which must be set:
//   AZURE_STORAGE_CONNECTION_STRING  a shared-key connection string (Azurite, local runs);
//   AZURE_STORAGE_BLOB_URL           https://<account>.blob.core.windows.net, authorised by a
//                                    managed identity (AZURE_CLIENT_ID picks a user-assigned
//                                    one; without it DefaultAzureCredential decides).
// The identity needs "Storage Blob Data Contributor" on the account, which also covers
// the user delegation key that signs redirect URLs (infra/ grants it).
using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Nixery.Core.Options;

namespace Nixery.Core.Azure;

public sealed partial class AzureStorageOptions : ICheckedSettings
{
    public const string DefaultContainer = "nixery";

    /// <summary>A connection string with an account key.</summary>
    [ConfigurationKeyName("AZURE_STORAGE_CONNECTION_STRING")]
    public string? ConnectionString { get; set; }

    /// <summary>The account's blob endpoint, used with a managed identity.</summary>
    [ConfigurationKeyName("AZURE_STORAGE_BLOB_URL")]
    public string? BlobUrl { get; set; }

    /// <summary>The client id of a user-assigned managed identity (optional).</summary>
    [ConfigurationKeyName("AZURE_CLIENT_ID")]
    public string? ClientId { get; set; }

    /// <summary>The one container that holds the storage layout.</summary>
    [ConfigurationKeyName("NIXERY_STORAGE_CONTAINER")]
    public string Container { get; set; } = DefaultContainer;

    /// <summary>Seconds a redirect (SAS) URL stays valid: 60 at least (a client may start the
    /// download a little later), one day at most, which keeps a user delegation key (valid for
    /// at most 7 days) comfortably longer.</summary>
    [ConfigurationKeyName("NIXERY_SAS_EXPIRY"), Range(60, 86400), Unit("seconds")]
    public int SasExpirySeconds { get; set; } = 600;

    public TimeSpan SasExpiry => TimeSpan.FromSeconds(SasExpirySeconds);

    public void Check(ICollection<string> errors)
    {
        if (ConnectionString is null && BlobUrl is null)
        {
            errors.Add("Neither AZURE_STORAGE_CONNECTION_STRING nor AZURE_STORAGE_BLOB_URL is set; the Azure backend needs exactly one of them (the blob URL, e.g. https://<account>.blob.core.windows.net, for a managed identity).");
        }
        else if (ConnectionString is not null && BlobUrl is not null)
        {
            errors.Add("Both AZURE_STORAGE_CONNECTION_STRING and AZURE_STORAGE_BLOB_URL are set; set exactly one of them.");
        }

        if (ConnectionString is not null && !IsConnectionString(ConnectionString))
        {
            // Never echo the value: it holds the account key.
            errors.Add("AZURE_STORAGE_CONNECTION_STRING is not a valid storage connection string; it must look like DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net.");
        }

        if (BlobUrl is not null && BlobUri is null)
        {
            // https only: Azure.Core refuses to send a bearer token over plain http.
            errors.Add($"AZURE_STORAGE_BLOB_URL is '{BlobUrl}'; it must be the account's https blob endpoint without a query, e.g. https://<account>.blob.core.windows.net.");
        }

        if (!IsContainerName(Container))
        {
            errors.Add($"NIXERY_STORAGE_CONTAINER is '{Container}'; it must be 3 to 63 characters of lower-case letters, digits and single hyphens, starting and ending with a letter or digit.");
        }
    }

    /// <summary>The blob endpoint, when it is an https URL without a query.</summary>
    public Uri? BlobUri =>
        BlobUrl is not null && Uri.TryCreate(BlobUrl, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttps && string.IsNullOrEmpty(url.Query) ? url : null;

    /// <summary>The container client for these settings; no network call is made here.
    /// <paramref name="clientOptions"/>: retries and timeouts (StorageCallPolicy), else the SDK's.</summary>
    public BlobContainerClient CreateContainerClient(BlobClientOptions? clientOptions = null)
    {
        if (ConnectionString is not null)
        {
            return new BlobContainerClient(ConnectionString, Container, clientOptions);
        }

        if (BlobUri is not { } blobUri)
        {
            throw new InvalidOperationException("AzureStorageOptions has neither a connection string nor a blob URL.");
        }

        TokenCredential credential = ClientId is not null
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(ClientId))
            : new DefaultAzureCredential();
        var containerUrl = new Uri(blobUri.AbsoluteUri.TrimEnd('/') + "/" + Container);
        return new BlobContainerClient(containerUrl, credential, clientOptions);
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
