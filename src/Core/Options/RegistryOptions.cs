// Every setting of the registry, bound from ASP.NET Core configuration (environment
// variables, appsettings.json, command line) under the names Nixery uses where Nixery has
// one, so its users can move over. Validated once at start-up: a wrong or missing setting
// stops the process with a sentence that names the setting and what it should be, as
// Nixery's getConfig does. The README's configuration table lists the same names.
using Microsoft.Extensions.Configuration;
using Nixery.Core.Queue.Azure;
using Nixery.Core.Sources;
using Nixery.Core.Storage.Azure;

namespace Nixery.Core.Options;

public sealed record RegistryOptions
{
    public const string DefaultStoragePath = ".state/storage";

    /// <summary>PORT: the embedded default's HTTP port (Nixery's name). Behind Azure Functions the
    /// host decides where the worker listens.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>NIXERY_STORAGE_BACKEND: "filesystem" (the embedded default) or "azure".</summary>
    public string StorageBackend { get; init; } = "filesystem";

    /// <summary>The Azure Blob settings, when NIXERY_STORAGE_BACKEND is "azure".</summary>
    public AzureStorageOptions? AzureStorage { get; init; }

    /// <summary>Which process these options are for; it decides the queue (RegistryPart).</summary>
    public RegistryPart Part { get; init; } = RegistryPart.Embedded;

    /// <summary>The Azure Storage Queue settings: set for the HTTP Functions app, which sends
    /// build jobs to the queue the build function app's queue trigger reads.</summary>
    public AzureQueueOptions? AzureQueue { get; init; }

    /// <summary>STORAGE_PATH: the folder of the filesystem backend (Nixery's name).</summary>
    public string StoragePath { get; init; } = DefaultStoragePath;

    /// <summary>The package sources, the default first: NIXERY_PKGS_PATH, NIXERY_CHANNEL or
    /// NIXERY_PKGS_REPO (Nixery's names, one of them) and NIXERY_SOURCES (SourceSettings.cs).</summary>
    public IReadOnlyList<SourceDefinition> Sources { get; init; } = [];

    /// <summary>NIXERY_REVISION_CACHE: seconds a moving target (a branch, a channel, a folder's
    /// contents) stays resolved to the same revision before it is looked up again.</summary>
    public TimeSpan RevisionCacheFor { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>NIXERY_SOURCE_CACHE: the folder where a worker keeps fetched sources (git
    /// mirrors, unpacked channel tarballs), one checkout per revision.</summary>
    public string SourceCachePath { get; init; } = ".state/sources";

    /// <summary>NIX_TIMEOUT: seconds one Nix step may take (Nixery's name).</summary>
    public TimeSpan NixTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>NIX_POPULARITY_URL: popularity data, file path or file:// URL (Nixery's name).</summary>
    public string? PopularityUrl { get; init; }

    /// <summary>NIXERY_BUILD_WAIT: seconds a manifest request waits for a build before 429.</summary>
    public TimeSpan BuildWait { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>NIXERY_RETRY_AFTER: seconds a client is told to wait in Retry-After.</summary>
    public int RetryAfterSeconds { get; init; } = 5;

    /// <summary>NIXERY_FAILURE_TTL: seconds a failed build is remembered before a pull retries it.</summary>
    public TimeSpan FailureTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>NIXERY_BUILD_STALE: seconds after which a queued/building status with no
    /// progress is presumed lost (worker died) and the next pull enqueues again.</summary>
    public TimeSpan BuildStaleAfter { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>NIXERY_LAYER_BUDGET: most layers per image, the symlink layer included.</summary>
    public int LayerBudget { get; init; } = 94;

    /// <summary>NIXERY_LAYERING: how store paths are grouped into layers: "stable" (the default,
    /// StableLayerGrouper) or "nixery" (Nixery's algorithm, NixeryLayerGrouper).</summary>
    public string Layering { get; init; } = "stable";

    /// <summary>NIXERY_WORKERS: builds the embedded default's in-process worker runs at once (0: no
    /// worker, so builds wait forever; for tests of the HTTP side). The build function app runs
    /// one build per instance (host.json's queue batch size) and ignores it.</summary>
    public int Workers { get; init; } = 1;

    /// <summary>NIXERY_PACK_CONCURRENCY: layers a worker packs at once, and chunks of deflate it
    /// compresses at once (the cores packing may use); default the processor count.</summary>
    public int PackConcurrency { get; init; } = Environment.ProcessorCount;

    /// <summary>NIXERY_MAX_DEQUEUE: times the embedded default's worker tries a build that throws
    /// before the image is failed. The build function app has host.json's maxDequeueCount.</summary>
    public int MaxDequeueCount { get; init; } = 3;

    /// <summary>NIXERY_LAYER_CLAIM_TTL: seconds a worker's claim on a layer it packs lasts without
    /// renewal (it renews every third of that); a dead worker's claim expires after it.</summary>
    public TimeSpan LayerClaimTtl { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>NIXERY_STAGING_MAX_AGE: seconds after which an upload left in staging/ is swept.</summary>
    public TimeSpan StagingMaxAge { get; init; } = TimeSpan.FromHours(1);

    /// <summary>NIXERY_NIX_PATH: the folder holding the Nix expressions (default: nix/ beside the app).</summary>
    public string NixExpressionsPath { get; init; } = Path.Combine(AppContext.BaseDirectory, "nix");

    /// <summary>The options, or false with the start-up error text that names every wrong setting.</summary>
    public static bool TryFromConfiguration(
        IConfiguration config,
        RegistryPart part,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RegistryOptions? options,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        try
        {
            options = FromConfiguration(config, part);
            error = null;
            return true;
        }
        catch (OptionsException e)
        {
            options = null;
            error = e.Message;
            return false;
        }
    }

    public static RegistryOptions FromConfiguration(IConfiguration config, RegistryPart part = RegistryPart.Embedded)
    {
        var defaults = new RegistryOptions();
        var errors = new List<string>();
        var options = new RegistryOptions
        {
            Part = part,
            Port = Settings.Int(config, "PORT", defaults.Port, 1, 65535, errors),
            StorageBackend = Settings.NonEmpty(config["NIXERY_STORAGE_BACKEND"]) ?? defaults.StorageBackend,
            StoragePath = Settings.NonEmpty(config["STORAGE_PATH"]) ?? defaults.StoragePath,
            RevisionCacheFor = TimeSpan.FromSeconds(Settings.Int(config, "NIXERY_REVISION_CACHE", (int)defaults.RevisionCacheFor.TotalSeconds, 0, 86400, errors, "seconds")),
            SourceCachePath = Settings.NonEmpty(config["NIXERY_SOURCE_CACHE"]) ?? defaults.SourceCachePath,
            NixTimeout = TimeSpan.FromSeconds(Settings.Int(config, "NIX_TIMEOUT", (int)defaults.NixTimeout.TotalSeconds, 1, 86400, errors)),
            PopularityUrl = Settings.NonEmpty(config["NIX_POPULARITY_URL"]),
            BuildWait = TimeSpan.FromSeconds(Settings.Int(config, "NIXERY_BUILD_WAIT", (int)defaults.BuildWait.TotalSeconds, 0, 600, errors)),
            RetryAfterSeconds = Settings.Int(config, "NIXERY_RETRY_AFTER", defaults.RetryAfterSeconds, 1, 3600, errors),
            FailureTtl = TimeSpan.FromSeconds(Settings.Int(config, "NIXERY_FAILURE_TTL", (int)defaults.FailureTtl.TotalSeconds, 0, 604800, errors)),
            BuildStaleAfter = TimeSpan.FromSeconds(Settings.Int(config, "NIXERY_BUILD_STALE", (int)defaults.BuildStaleAfter.TotalSeconds, 10, 604800, errors)),
            LayerBudget = Settings.Int(config, "NIXERY_LAYER_BUDGET", defaults.LayerBudget, 2, 125, errors),
            Layering = Settings.NonEmpty(config["NIXERY_LAYERING"]) ?? defaults.Layering,
            Workers = Settings.Int(config, "NIXERY_WORKERS", defaults.Workers, 0, 64, errors),
            PackConcurrency = Settings.Int(config, "NIXERY_PACK_CONCURRENCY", defaults.PackConcurrency, 1, 256, errors),
            MaxDequeueCount = Settings.Int(config, "NIXERY_MAX_DEQUEUE", defaults.MaxDequeueCount, 1, 100, errors),
            LayerClaimTtl = TimeSpan.FromSeconds(Settings.Int(config, "NIXERY_LAYER_CLAIM_TTL", (int)defaults.LayerClaimTtl.TotalSeconds, 3, 3600, errors)),
            StagingMaxAge = TimeSpan.FromSeconds(Settings.Int(config, "NIXERY_STAGING_MAX_AGE", (int)defaults.StagingMaxAge.TotalSeconds, 1, 604800, errors)),
            NixExpressionsPath = Settings.NonEmpty(config["NIXERY_NIX_PATH"]) ?? defaults.NixExpressionsPath,
        };

        switch (options.StorageBackend)
        {
            case "filesystem":
                break;
            case "azure":
                options = options with { AzureStorage = AzureStorageOptions.FromConfiguration(config, errors) };
                break;
            default:
                errors.Add($"NIXERY_STORAGE_BACKEND is '{options.StorageBackend}'; it must be 'filesystem' or 'azure'.");
                break;
        }

        if (part == RegistryPart.HttpFunctions)
        {
            options = options with { AzureQueue = AzureQueueOptions.FromConfiguration(config, errors) };
        }

        if (options.Layering is not ("stable" or "nixery"))
        {
            errors.Add($"NIXERY_LAYERING is '{options.Layering}'; it must be 'stable' or 'nixery'.");
        }

        options = options with { Sources = SourceSettings.Read(config, errors) };
        // The HTTP Functions app carries no Nix expressions; the processes that build do.
        if (part != RegistryPart.HttpFunctions && !File.Exists(Path.Combine(options.NixExpressionsPath, "prepare-image.nix")))
        {
            errors.Add($"NIXERY_NIX_PATH is '{options.NixExpressionsPath}', which has no prepare-image.nix; it must name the repository's nix/ folder.");
        }

        if (options.PopularityUrl is { } url && !File.Exists(url.StartsWith("file://", StringComparison.Ordinal) ? new Uri(url).LocalPath : url))
        {
            errors.Add($"NIX_POPULARITY_URL is '{url}', which does not exist; it must be a popularity JSON file (path or file:// URL).");
        }

        return errors.Count == 0 ? options : throw new OptionsException(errors);
    }
}

/// <summary>The three processes that read these options. Each checks the settings it uses,
/// and the part decides the build queue: the embedded default queues in-process for its own
/// worker; the HTTP Functions app sends jobs to the Azure Storage queue that the build
/// function app's queue trigger consumes.</summary>
public enum RegistryPart
{
    /// <summary>src/Embedded: one process, HTTP and in-process queue and worker.</summary>
    Embedded,

    /// <summary>src/Functions: the HTTP function app.</summary>
    HttpFunctions,

    /// <summary>src/Worker: the queue-triggered build function app.</summary>
    BuildFunctions,
}

/// <summary>Start-up configuration errors, one sentence per setting.</summary>
public sealed class OptionsException(IReadOnlyList<string> errors)
    : Exception("invalid configuration:\n  " + string.Join("\n  ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
