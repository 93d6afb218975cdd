// Where the registry keeps everything (ARCHITECTURE.md, storage layout): the settings every
// process reads. The Azure backend's own settings are AzureStorageOptions (src/Core.Azure).
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Nixery.Core.Options;

public sealed class StorageOptions
{
    public const string FileSystem = "filesystem";

    public const string Azure = "azure";

    /// <summary>The storage backend: the filesystem (the embedded default) or Azure Blob Storage.</summary>
    [ConfigurationKeyName("NIXERY_STORAGE_BACKEND"), AllowedValues(FileSystem, Azure)]
    public string Backend { get; set; } = FileSystem;

    /// <summary>The folder of the filesystem backend (Nixery's name).</summary>
    [ConfigurationKeyName("STORAGE_PATH")]
    public string Path { get; set; } = ".state/storage";

    /// <summary>Seconds after which an upload left in staging/ (a dead worker's) is swept.</summary>
    [ConfigurationKeyName("NIXERY_STAGING_MAX_AGE"), Range(1, 604800)]
    public int StagingMaxAgeSeconds { get; set; } = 3600;

    public TimeSpan StagingMaxAge => TimeSpan.FromSeconds(StagingMaxAgeSeconds);

    /// <summary>Whether the configuration chooses Azure Blob Storage (read before binding, to
    /// know which settings to check).</summary>
    public static bool UsesAzure(IConfiguration config) => string.Equals(config["NIXERY_STORAGE_BACKEND"]?.Trim(), Azure, StringComparison.Ordinal);
}
