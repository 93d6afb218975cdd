// The Azure SDK's retry and timeout settings for every storage call, set explicitly here
// (issue 16) rather than left at Azure.Core's defaults (3 retries, 0.8 s exponential delay
// up to 1 min, 100 s network timeout per try: about 5 minutes for one call against a storage
// account that accepts connections and never answers). Measured with the defaults: a warm
// pull answered 500 after 21–26 s of a storage outage, and a manifest request that should
// answer within NIXERY_BUILD_WAIT (20 s) answered after 31 s.
//
// Two kinds of call, two policies:
//
//   Interactive   every small request (properties, records and manifests up to a few MiB
//                 read in one ranged GET, conditional writes of records and leases, deletes,
//                 listings, the container and queue creation, enqueueing a job). A healthy
//                 account answers these in milliseconds. NetworkTimeout 3 s per try (for a
//                 download it bounds each read of the body, not the whole body: Azure.Core's
//                 ResponseBodyPolicy), MaxRetries 2, exponential Delay 0.25 s, MaxDelay 1 s:
//                 at most 3 × 3 s + 0.25 s + 0.5 s (±20 % jitter) ≈ 10 s per call, so one
//                 stuck call fits a request's budget (RegistryResult: 10 s, or the build wait),
//                 while a refused connection fails in under a second and is answered 503.
//   Bulk          streamed uploads of layers (8 MiB blocks, BlockUploadStream) and whole-object
//                 writes, done by workers, whose builds have no client waiting on one call.
//                 Azure.Core's defaults, stated: NetworkTimeout 100 s per try (an 8 MiB block
//                 at 1 Mbit/s takes 67 s), MaxRetries 3, Delay 0.8 s, MaxDelay 60 s.
//
// https://learn.microsoft.com/dotnet/api/azure.core.retryoptions (the defaults above);
// https://learn.microsoft.com/azure/storage/blobs/storage-retry-policy (exponential retry
// with jitter for Blob Storage; transient = 408, 429, 5xx and transport errors).
using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace Nixery.Core.Azure;

public static class StorageCallPolicy
{
    public static readonly TimeSpan InteractiveNetworkTimeout = TimeSpan.FromSeconds(3);
    public const int InteractiveMaxRetries = 2;
    public static readonly TimeSpan InteractiveDelay = TimeSpan.FromSeconds(0.25);
    public static readonly TimeSpan InteractiveMaxDelay = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan BulkNetworkTimeout = TimeSpan.FromSeconds(100);
    public const int BulkMaxRetries = 3;
    public static readonly TimeSpan BulkDelay = TimeSpan.FromSeconds(0.8);
    public static readonly TimeSpan BulkMaxDelay = TimeSpan.FromSeconds(60);

    /// <summary>Blob client options for small requests.</summary>
    public static BlobClientOptions InteractiveBlobs() =>
        Apply(new BlobClientOptions(), InteractiveNetworkTimeout, InteractiveMaxRetries, InteractiveDelay, InteractiveMaxDelay);

    /// <summary>Blob client options for streamed uploads and whole-object writes.</summary>
    public static BlobClientOptions BulkBlobs() =>
        Apply(new BlobClientOptions(), BulkNetworkTimeout, BulkMaxRetries, BulkDelay, BulkMaxDelay);

    /// <summary>Queue client options (sending a job is one small request); messages are
    /// encoded by AzureStorageQueue itself, so the client does not encode them.</summary>
    public static QueueClientOptions Queues() =>
        Apply(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None }, InteractiveNetworkTimeout, InteractiveMaxRetries, InteractiveDelay, InteractiveMaxDelay);

    private static T Apply<T>(T options, TimeSpan networkTimeout, int maxRetries, TimeSpan delay, TimeSpan maxDelay)
        where T : ClientOptions
    {
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Delay = delay;
        options.Retry.MaxDelay = maxDelay;
        options.Retry.NetworkTimeout = networkTimeout;
        return options;
    }
}
