// The Azure Blob backend: the storage layout in one container of a storage account, shared
// by every HTTP instance and worker. How each guarantee of IStorageBackend is kept:
//
//   atomic whole-object writes   a blob becomes visible only when its block list is committed
//                                (Put Blob / Put Block List), so readers see old or new bytes;
//                                no staging copy is needed for WriteAsync.
//   create-if-absent             If-None-Match: *  → 409 BlobAlreadyExists when it exists.
//   replace-if-unchanged         If-Match: <etag>  → 412 ConditionNotMet when it changed.
//   delete-if-unchanged          Delete Blob with If-Match: <etag>, the same answers.
//   streamed upload, digest      an object smaller than one block (8 MiB: most layers) is
//   known only at the end        held in memory and put at its final name in one request
//                                (If-None-Match: *). Larger ones: blocks are staged on
//                                staging/<id> as they come (never the whole blob in memory;
//                                BlockUploadStream); Commit commits the block list there,
//                                copies staging → blobs/… server-side and deletes the staging
//                                blob. Blocks cannot be moved between blobs and the final name
//                                is unknown until the last byte, so a copy is the only way
//                                that never shows a reader a partial blob under blobs/.
//   redirect URLs                a read-only SAS for one blob, a few minutes long: signed with
//                                the account key when there is one, else with a cached user
//                                delegation key (managed identity); null ("stream it
//                                yourself") when reached through a SAS connection string.
//   start without storage        Create makes no network call; the container is created by
//                                the first call that needs it, tried again until it succeeds
//                                once, then remembered (issue 16: a process must start and
//                                answer 503 while the account is unreachable).
//   bounded calls                two clients over the same container: small requests on the
//                                interactive one, streamed uploads on the bulk one, each with
//                                StorageCallPolicy's retries and per-try network timeout.
using System.Runtime.CompilerServices;
using global::Azure;
using global::Azure.Storage.Blobs;
using global::Azure.Storage.Blobs.Models;
using global::Azure.Storage.Blobs.Specialized;
using global::Azure.Storage.Sas;
using Nixery.Core.Storage;
using BlobProperties = Nixery.Core.Storage.BlobProperties;

namespace Nixery.Core.Azure;

public sealed class AzureBlobStorage : IStorageBackend, IDisposable
{
    /// <summary>Block size of streamed uploads and writes: the most a single upload holds in
    /// memory per concurrent block. 8 MiB keeps a 1 GiB layer at 128 blocks (limit 50,000).</summary>
    private const int BlockSize = 8 * 1024 * 1024;

    /// <summary>SAS start times are backdated for clients (and Azure front ends) whose clocks
    /// run a little behind ours; Azure's own guidance is a few minutes.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>A user delegation key may be valid for at most 7 days; one of two days
    /// always outlives the longest SAS (one day) signed with it.</summary>
    private static readonly TimeSpan DelegationKeyLifetime = TimeSpan.FromDays(2);

    private readonly BlobContainerClient _container;
    private readonly BlobContainerClient _bulk;
    private readonly TimeSpan _sasExpiry;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _keyLock = new(1, 1);
    private readonly Lock _createGate = new();
    private Task? _created;
    private UserDelegationKey? _delegationKey;

    private AzureBlobStorage(BlobContainerClient container, BlobContainerClient bulk, TimeSpan sasExpiry, TimeProvider time)
    {
        _container = container;
        _bulk = bulk;
        _sasExpiry = sasExpiry;
        _time = time;
    }

    public string Name => "azure-blob";

    /// <summary>"container &lt;name&gt; at &lt;account endpoint&gt;" (no SAS query: it is a secret).</summary>
    public string Location => $"container {_container.Name} at {_container.Uri.GetLeftPart(UriPartial.Path)}";

    /// <summary>The backend, without a network call: the container is created when first needed.
    /// <paramref name="bulk"/>: a client of the same container for streamed uploads (a longer
    /// per-try timeout, StorageCallPolicy); <paramref name="container"/> when not given.</summary>
    public static AzureBlobStorage Create(BlobContainerClient container, TimeSpan sasExpiry, TimeProvider? time = null, BlobContainerClient? bulk = null)
    {
        if (sasExpiry <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(sasExpiry), sasExpiry, "the SAS expiry must be positive");
        }

        if (bulk is not null && bulk.Uri != container.Uri)
        {
            throw new ArgumentException($"the bulk client is for {bulk.Uri}, not the container {container.Uri}", nameof(bulk));
        }

        return new AzureBlobStorage(container, bulk ?? container, sasExpiry, time ?? TimeProvider.System);
    }

    /// <summary>Creates the container (private access) if it does not exist yet, then the backend.</summary>
    public static async Task<AzureBlobStorage> CreateAsync(BlobContainerClient container, TimeSpan sasExpiry, CancellationToken cancellationToken, TimeProvider? time = null)
    {
        var backend = Create(container, sasExpiry, time);
        await backend.EnsureContainerAsync(cancellationToken);
        return backend;
    }

    /// <summary>The container exists, then one small request (its properties).</summary>
    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        await _container.GetPropertiesAsync(cancellationToken: cancellationToken);
    }

    /// <summary>The SDK's transient answers (Azure Storage's retry guidance): no response at all
    /// (status 0: connection refused, reset, a per-try timeout), 408, 429 and 5xx; and an I/O
    /// error while a response body streams.</summary>
    public bool IsOutage(Exception fault) =>
        fault is RequestFailedException { Status: 0 or 408 or 429 or >= 500 } or IOException;

    /// <summary>Creates the container if missing: once, shared by concurrent callers, tried
    /// again by the next call if it failed, and remembered once it succeeded.</summary>
    private Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        lock (_createGate)
        {
            if (_created is null || _created.IsFaulted || _created.IsCanceled)
            {
                _created = _container.CreateIfNotExistsAsync(PublicAccessType.None, cancellationToken: CancellationToken.None);
            }

            return _created.IsCompletedSuccessfully ? Task.CompletedTask : _created.WaitAsync(cancellationToken);
        }
    }

    public async Task<BlobProperties?> StatAsync(string path, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        try
        {
            var props = (await Blob(path).GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            return new BlobProperties(props.ContentLength, props.ContentType, props.ETag.ToString());
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        try
        {
            // One ranged GET is a consistent snapshot: small objects — status records and
            // manifests, which are replaced while others read them — come whole from it. A
            // properties call followed by an If-Match read would fail with 412 whenever the
            // object was replaced in between (seen under 50 concurrent pulls).
            var first = await Blob(path).DownloadStreamingAsync(
                new BlobDownloadOptions { Range = new HttpRange(0, SnapshotReadLimit) }, cancellationToken);
            using (var head = first.Value)
            {
                if (head.Details.ContentLength == TotalLength(head.Details.ContentRange, head.Details.ContentLength))
                {
                    var whole = new MemoryStream((int)head.Details.ContentLength);
                    await head.Content.CopyToAsync(whole, cancellationToken);
                    whole.Position = 0;
                    return whole;
                }
            }

            // Larger objects are layers, which are immutable. allowModifications: false pins the
            // ETag seen at open, so a replaced blob fails the read instead of mixing versions;
            // the stream seeks by ranged GETs.
            var options = new BlobOpenReadOptions(allowModifications: false) { BufferSize = 4 * 1024 * 1024 };
            return await Blob(path).OpenReadAsync(options, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException e) when (e.Status == 416)
        {
            // A range starting at 0 is unsatisfiable only for an empty blob.
            return new MemoryStream([], writable: false);
        }
    }

    /// <summary>Objects up to this size are read in one request.</summary>
    private const int SnapshotReadLimit = 4 * 1024 * 1024;

    /// <summary>The whole object's length from "bytes a-b/total"; without a range, the length itself.</summary>
    private static long TotalLength(string? contentRange, long contentLength)
    {
        var slash = contentRange?.LastIndexOf('/') ?? -1;
        return slash >= 0 && long.TryParse(contentRange![(slash + 1)..], out var total) ? total : contentLength;
    }

    public async Task WriteAsync(string path, Stream content, string? contentType, CancellationToken cancellationToken)
    {
        var options = new BlobUploadOptions
        {
            HttpHeaders = Headers(contentType),
            TransferOptions = new global::Azure.Storage.StorageTransferOptions { InitialTransferSize = BlockSize, MaximumTransferSize = BlockSize },
        };
        await EnsureContainerAsync(cancellationToken);
        await _bulk.GetBlobClient(path).UploadAsync(content, options, cancellationToken);
    }

    public async Task<bool> TryCreateAsync(string path, ReadOnlyMemory<byte> content, string? contentType, CancellationToken cancellationToken) =>
        await TryCreateVersionedAsync(path, content, contentType, cancellationToken) is not null;

    /// <summary>Put Blob If-None-Match: *; its answer carries the new blob's ETag.</summary>
    public async Task<string?> TryCreateVersionedAsync(string path, ReadOnlyMemory<byte> content, string? contentType, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        try
        {
            var written = await UploadSmallAsync(_container, path, content, contentType, new BlobRequestConditions { IfNoneMatch = ETag.All }, cancellationToken);
            return written.Value.ETag.ToString();
        }
        catch (RequestFailedException e) when (e.Status == 412 || (e.Status == 409 && e.ErrorCode == BlobErrorCode.BlobAlreadyExists))
        {
            return null;
        }
    }

    public async Task<bool> TryReplaceAsync(string path, ReadOnlyMemory<byte> content, string expectedETag, string? contentType, CancellationToken cancellationToken) =>
        await TryReplaceVersionedAsync(path, content, expectedETag, contentType, cancellationToken) is not null;

    /// <summary>Put Blob If-Match; its answer carries the new ETag.</summary>
    public async Task<string?> TryReplaceVersionedAsync(string path, ReadOnlyMemory<byte> content, string expectedETag, string? contentType, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        try
        {
            var written = await UploadSmallAsync(_container, path, content, contentType, new BlobRequestConditions { IfMatch = new ETag(expectedETag) }, cancellationToken);
            return written.Value.ETag.ToString();
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            // 412: changed since; 404: never there (Azure answers If-Match on a missing blob either way).
            return null;
        }
    }

    public async Task<IStagedUpload> BeginStagedUploadAsync(CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        var staging = _bulk.GetBlockBlobClient(StorageLayout.Staging(Guid.NewGuid().ToString("N")));
        return new StagedUpload(this, staging, new BlockUploadStream(staging, BlockSize));
    }

    public async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        await Blob(path).DeleteIfExistsAsync(cancellationToken: cancellationToken);
    }

    public async Task<bool> TryDeleteAsync(string path, string expectedETag, CancellationToken cancellationToken)
    {
        await EnsureContainerAsync(cancellationToken);
        try
        {
            return await Blob(path).DeleteIfExistsAsync(DeleteSnapshotsOption.None, new BlobRequestConditions { IfMatch = new ETag(expectedETag) }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            return false;
        }
    }

    public async IAsyncEnumerable<(string Path, DateTimeOffset Modified)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The service lists in UTF-8 byte order, which is ordinal for the ASCII paths of
        // StorageLayout; sorting again makes the order the contract's whatever the names.
        var found = new List<(string Path, DateTimeOffset Modified)>();
        await EnsureContainerAsync(cancellationToken);
        await foreach (var item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
        {
            found.Add((item.Name, item.Properties.LastModified ?? DateTimeOffset.MinValue));
        }

        found.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        foreach (var entry in found)
        {
            yield return entry;
        }
    }

    public async Task<Uri?> GetRedirectUrlAsync(string path, string contentType, CancellationToken cancellationToken)
    {
        var blob = Blob(path);
        var now = _time.GetUtcNow();
        var sas = new BlobSasBuilder(BlobSasPermissions.Read, now + _sasExpiry)
        {
            BlobContainerName = _container.Name,
            BlobName = blob.Name,
            Resource = "b",
            StartsOn = now - ClockSkew,
            Protocol = blob.Uri.Scheme == Uri.UriSchemeHttps ? SasProtocol.Https : SasProtocol.HttpsAndHttp,
            // rsct: the blob is served with the Content-Type the registry promised, whatever
            // was stored with it.
            ContentType = contentType,
        };

        if (blob.CanGenerateSasUri)
        {
            return blob.GenerateSasUri(sas);
        }

        if (_container.Uri.Query.Contains("sig=", StringComparison.Ordinal))
        {
            // Reached through a SAS connection string: no key to sign with and no identity to
            // ask for a delegation key, so the caller streams the blob itself.
            return null;
        }

        var key = await DelegationKeyAsync(now, cancellationToken);
        return new BlobUriBuilder(blob.Uri) { Sas = sas.ToSasQueryParameters(key, _container.AccountName) }.ToUri();
    }

    /// <summary>The user delegation key (managed identity), fetched once and renewed while it
    /// still outlives any SAS signed now by a wide margin.</summary>
    private async Task<UserDelegationKey> DelegationKeyAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _keyLock.WaitAsync(cancellationToken);
        try
        {
            if (_delegationKey is null || _delegationKey.SignedExpiresOn - now < _sasExpiry + TimeSpan.FromHours(12))
            {
                var service = _container.GetParentBlobServiceClient();
                _delegationKey = (await service.GetUserDelegationKeyAsync(now - ClockSkew, now + DelegationKeyLifetime, cancellationToken)).Value;
            }

            return _delegationKey;
        }
        finally
        {
            _keyLock.Release();
        }
    }

    private BlobClient Blob(string path) => _container.GetBlobClient(path);

    /// <summary>The backend lives as long as its process (a singleton); this releases its lock.</summary>
    public void Dispose() => _keyLock.Dispose();

    private static BlobHttpHeaders Headers(string? contentType) => new() { ContentType = contentType };

    /// <summary>One Put Blob (the SDK would cut content larger than its single-shot limit into
    /// blocks; nothing here is larger than BlockSize).</summary>
    private static Task<Response<BlobContentInfo>> UploadSmallAsync(BlobContainerClient client, string path, ReadOnlyMemory<byte> content, string? contentType, BlobRequestConditions conditions, CancellationToken cancellationToken) =>
        client.GetBlobClient(path).UploadAsync(BinaryData.FromBytes(content), new BlobUploadOptions
        {
            HttpHeaders = Headers(contentType),
            Conditions = conditions,
            TransferOptions = new global::Azure.Storage.StorageTransferOptions { InitialTransferSize = BlockSize, MaximumTransferSize = BlockSize },
        }, cancellationToken);

    /// <summary>Blocks staged on staging/&lt;id&gt; (BlockUploadStream); committed there, then
    /// copied server-side to the final path.</summary>
    private sealed class StagedUpload(AzureBlobStorage owner, BlockBlobClient staging, BlockUploadStream stream) : IStagedUpload
    {
        private bool _committed;
        private bool _done;

        public Stream Content => stream;

        public async Task CommitAsync(string finalPath, string? contentType, CancellationToken cancellationToken)
        {
            if (stream.SingleBlock() is { } whole)
            {
                // Smaller than one block, so nothing was sent yet and the final name is known
                // before the first byte goes out: one Put Blob If-None-Match: * there, instead of
                // Put Block, Put Block List, Copy Blob and Delete Blob (issue 16: most layers are
                // this small, and each round trip is paid per layer). Put Blob is atomic as a
                // block list commit is; an equal object already there is kept.
                try
                {
                    await UploadSmallAsync(owner._bulk, finalPath, whole, contentType, new BlobRequestConditions { IfNoneMatch = ETag.All }, cancellationToken);
                }
                catch (RequestFailedException e) when (e.Status == 412 || (e.Status == 409 && e.ErrorCode == BlobErrorCode.BlobAlreadyExists))
                {
                    // Another writer stored the same content-addressed object first.
                }

                _done = true;
                return;
            }

            // The staging blob comes into existence whole, with its content type; a copy takes
            // the source's properties, so the final blob never exists without its type.
            await stream.CommitAsync(contentType, cancellationToken);
            _committed = true;
            try
            {
                // No existence check first: the copy's own If-None-Match: * refuses an existing
                // target, in the same round trip.
                var copy = await owner.Blob(finalPath).StartCopyFromUriAsync(
                    staging.Uri,
                    new BlobCopyFromUriOptions { DestinationConditions = new BlobRequestConditions { IfNoneMatch = ETag.All } },
                    cancellationToken);
                // A copy within one account usually completes in the call itself (x-ms-copy-status:
                // success); polling its status then would be one more round trip per layer.
                if (!(copy.GetRawResponse().Headers.TryGetValue("x-ms-copy-status", out var status) && status == "success"))
                {
                    await copy.WaitForCompletionAsync(cancellationToken);
                }
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Another writer committed the same content-addressed object meanwhile;
                // theirs is equal and is kept.
            }

            await staging.DeleteIfExistsAsync(cancellationToken: cancellationToken);
            _done = true;
        }

        public async ValueTask DisposeAsync()
        {
            await stream.DisposeAsync();
            if (_done || (!_committed && !stream.HasStagedBlocks))
            {
                return;
            }

            try
            {
                if (!_committed)
                {
                    // Uncommitted blocks cannot be deleted as such: commit an empty list
                    // (which drops them) and delete the empty blob that leaves.
                    await staging.CommitBlockListAsync([], cancellationToken: CancellationToken.None);
                }

                await staging.DeleteIfExistsAsync(cancellationToken: CancellationToken.None);
            }
            catch (RequestFailedException)
            {
                // Abandoning must not hide the failure that caused it. What is left is never
                // referenced: uncommitted blocks expire by themselves after seven days, and a
                // committed staging blob is swept when stale (StorageLayout).
            }
        }
    }
}
