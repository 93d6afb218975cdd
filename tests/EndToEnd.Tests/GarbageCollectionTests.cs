// Garbage collection end to end (issue 13, Done-when 4), on the filesystem and on Azure Blob
// (Azurite): an embedded default builds real images with Nix from the offline package set; its
// clock is a FakeTimeProvider that starts at the real time, so "past the retention" is a step of
// the clock. One image is pulled again after the step and is kept, one is not and goes; a third
// is built while a collection runs, held just before its image entry is written (the builder's
// last write), and pulls whole afterwards. skopeo pulls what remains; every blob left in storage
// is named by a remaining image and hashes to its digest.
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Azure;
using Nixery.Core.Collection;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;
using Nixery.TestSupport;
using Xunit.Abstractions;

namespace Nixery.EndToEnd.Tests;

public abstract class GarbageCollectionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    /// <summary>A bound on each awaited step, not a wait for one.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(10);

    private readonly TempDir _temp = new("nixery-e2e-gc");

    /// <summary>The storage settings of the backend under test.</summary>
    protected abstract Task<IReadOnlyDictionary<string, string?>> StorageSettingsAsync(TempDir temp);

    /// <summary>The backend the registry's settings make, or one made here instead.</summary>
    protected virtual IStorageBackend Backend(IStorageBackend configured) => configured;

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync()
    {
        _temp.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task AfterRetentionTheUnpulledImageGoesAndThePulledOneAndOneBuiltDuringTheCollectionPullWhole()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var gate = new ImageEntryGate();
        var settings = new Dictionary<string, string?>(await StorageSettingsAsync(_temp)) { ["NIXERY_BUILD_WAIT"] = "600" };
        await using var registry = await RegistryInstance.StartAsync(_temp.Combine("storage"), settings, services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            var backend = services.Last(d => d.ServiceType == typeof(IStorageBackend));
            services.AddSingleton<IStorageBackend>(sp => gate.Wrap(Backend((IStorageBackend)backend.ImplementationFactory!(sp))));
        });
        var backend = registry.Services.GetRequiredService<IStorageBackend>();
        var recorder = registry.Services.GetRequiredService<PullRecorder>();
        // The registry's own timer is off (NIXERY_RETENTION unset): the test runs each collection.
        var collector = new GarbageCollector(backend, registry.Store, registry.Ledger, new CollectionOptions { RetentionDays = 1 }, clock, NullLogger<GarbageCollector>.Instance);

        const string Kept = "coreutils", Expired = "libbz2-1.0", Built = "shell";
        await PullManifestAsync(registry, Kept);
        await PullManifestAsync(registry, Expired);
        await recorder.FlushAsync();

        // A day and two hours on, the first image is pulled again; the second is not.
        clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(2));
        await PullManifestAsync(registry, Kept);
        await recorder.FlushAsync();
        var expiredBlobs = await NamedBlobsAsync(registry, backend);

        // A build runs during the collection: held before its image entry, all else written.
        gate.Hold();
        var building = PullManifestAsync(registry, Built);
        await gate.Reached.WaitAsync(Bound);
        var during = await collector.CollectAsync(dryRun: false, Ct);
        Assert.Equal(1, during.Images.Count);
        Assert.True(during.BlobsDeferred, "unreferenced blobs were swept while a build was running");
        gate.Release();
        await building.WaitAsync(Bound);
        await recorder.FlushAsync();

        // No build runs now: a dry run, then the collection it describes.
        var before = await ListAsync(backend, "");
        var dry = await collector.CollectAsync(dryRun: true, Ct);
        Assert.Equal(before, await ListAsync(backend, ""));
        var after = await collector.CollectAsync(dryRun: false, Ct);
        Assert.Equal(after with { DryRun = true }, dry);
        output.WriteLine($"during the build: {during}");
        output.WriteLine($"after it: {after}");
        Assert.False(after.BlobsDeferred);
        Assert.Equal(0, after.Images.Count);
        Assert.Equal(2, after.ImagesKept);

        // What remains is exactly what the two remaining images name, and it is whole.
        var named = await NamedBlobsAsync(registry, backend);
        var stored = (await ListAsync(backend, StorageLayout.BlobPrefix)).Select(p => StorageLayout.DigestOfBlob(p)!.Value).ToHashSet();
        Assert.Equal(named.OrderBy(d => d.Hex, StringComparer.Ordinal), stored.OrderBy(d => d.Hex, StringComparer.Ordinal));
        Assert.Equal(expiredBlobs.Except(named).Count(), after.Blobs.Count);
        Assert.True(after.Blobs.Count > 0, "the expired image had no blob of its own");
        foreach (var digest in stored)
        {
            await using var stream = await registry.Store.OpenBlobAsync(digest, Ct) ?? throw new Xunit.Sdk.XunitException($"blob {digest} is missing");
            Assert.Equal(digest, Digest.FromSha256Hash(await System.Security.Cryptography.SHA256.HashDataAsync(stream, Ct)));
        }

        foreach (var layer in (await ListAsync(backend, StorageLayout.LayerPrefix)).Where(p => StorageLayout.LayerKeyOfRecord(p) is not null))
        {
            var record = await backend.ReadJsonAsync(layer, CoreJson.Default.LayerRecord, Ct);
            Assert.True(record is not null && Digest.TryParse(record.Digest, out var d) && stored.Contains(d.Value), $"{layer} names a blob that is gone");
        }

        foreach (var image in new[] { Kept, Built })
        {
            (await Clients.SkopeoCopyAsync(registry.HostPort, $"{image}:latest", _temp.Combine("oci-" + image))).EnsureSuccess($"skopeo copy {image} after the collection");
        }

        // The expired image is a miss now, and builds again.
        Assert.Equal(2, (await ListAsync(backend, StorageLayout.ImagePrefix)).Count);
        await PullManifestAsync(registry, Expired);
    }

    private static async Task PullManifestAsync(RegistryInstance registry, string image)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{image}/manifests/latest");
        request.Headers.Accept.ParseAdd(MediaTypes.DockerManifest);
        using var response = await registry.Client.SendAsync(request, Ct);
        Assert.True(response.IsSuccessStatusCode, $"GET {image}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
    }

    /// <summary>Every blob the stored image entries name, found as a client would: manifests,
    /// the index's manifests, configs, layers, and the referrers' SBOM artifacts.</summary>
    private static async Task<HashSet<Digest>> NamedBlobsAsync(RegistryInstance registry, IStorageBackend backend)
    {
        var named = new HashSet<Digest>();
        foreach (var path in await ListAsync(backend, StorageLayout.ImagePrefix))
        {
            var record = await backend.ReadJsonAsync(path, CoreJson.Default.ImageRecord, Ct) ?? throw new Xunit.Sdk.XunitException($"{path} vanished");
            foreach (var variant in record.StoredVariants())
            {
                await AddManifestAsync(registry.Store, Digest.TryParse(variant.Digest, out var d) ? d.Value : throw new Xunit.Sdk.XunitException(variant.Digest), named);
            }
        }

        return named;
    }

    private static async Task AddManifestAsync(RegistryStore store, Digest digest, HashSet<Digest> named)
    {
        if (!named.Add(digest))
        {
            return;
        }

        await using var stream = await store.OpenBlobAsync(digest, Ct) ?? throw new Xunit.Sdk.XunitException($"manifest {digest} is missing");
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: Ct);
        var root = document.RootElement;
        if (root.TryGetProperty("manifests", out var manifests))
        {
            foreach (var child in manifests.EnumerateArray())
            {
                await AddManifestAsync(store, Digest.TryParse(child.GetProperty("digest").GetString(), out var d) ? d.Value : throw new Xunit.Sdk.XunitException("bad digest"), named);
            }
        }

        if (root.TryGetProperty("config", out var config) && Digest.TryParse(config.GetProperty("digest").GetString(), out var configDigest))
        {
            named.Add(configDigest.Value);
        }

        if (root.TryGetProperty("layers", out var layers))
        {
            foreach (var layer in layers.EnumerateArray())
            {
                named.Add(Digest.TryParse(layer.GetProperty("digest").GetString(), out var d) ? d.Value : throw new Xunit.Sdk.XunitException("bad digest"));
            }
        }

        if (await store.GetReferrersAsync(digest, Ct) is { } referrers)
        {
            foreach (var artifact in referrers.Manifests)
            {
                await AddManifestAsync(store, Digest.TryParse(artifact.Digest, out var d) ? d.Value : throw new Xunit.Sdk.XunitException("bad digest"), named);
            }
        }
    }

    private static async Task<List<string>> ListAsync(IStorageBackend backend, string prefix)
    {
        var paths = new List<string>();
        await foreach (var (path, _) in backend.ListAsync(prefix, Ct))
        {
            paths.Add(path);
        }

        return [.. paths.Order(StringComparer.Ordinal)];
    }
}

public sealed class GarbageCollectionOnFileSystemTests(ITestOutputHelper output) : GarbageCollectionTests(output)
{
    protected override Task<IReadOnlyDictionary<string, string?>> StorageSettingsAsync(TempDir temp) =>
        Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>());
}

public sealed class GarbageCollectionOnAzuriteTests(ITestOutputHelper output) : GarbageCollectionTests(output)
{
    private const string Container = "nixery-gc";

    private Azurite? _azurite;

    protected override async Task<IReadOnlyDictionary<string, string?>> StorageSettingsAsync(TempDir temp)
    {
        _azurite = await Azurite.StartAsync();
        return new Dictionary<string, string?>
        {
            ["NIXERY_STORAGE_BACKEND"] = "azure",
            ["AZURE_STORAGE_CONNECTION_STRING"] = _azurite.ConnectionString,
            ["NIXERY_STORAGE_CONTAINER"] = Container,
        };
    }

    /// <summary>The same container, with SAS URLs signed on the real clock: Azurite refuses a
    /// signature that starts a day ahead, as the registry's fake clock would sign it.</summary>
    protected override IStorageBackend Backend(IStorageBackend configured) =>
        AzureBlobStorage.Create(new BlobContainerClient(_azurite!.ConnectionString, Container), TimeSpan.FromMinutes(10), TimeProvider.System);

    public override async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }

        await base.DisposeAsync();
    }
}

/// <summary>Holds the next image entry write (a build's last step) until released.</summary>
internal sealed class ImageEntryGate
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _holding;

    public Task Reached => _reached.Task;

    public void Hold() => _holding = true;

    public void Release()
    {
        _holding = false;
        _released.TrySetResult();
    }

    public IStorageBackend Wrap(IStorageBackend inner) => new Gated(inner, this);

    private async Task PassAsync(string path)
    {
        if (_holding && path.StartsWith(StorageLayout.ImagePrefix, StringComparison.Ordinal))
        {
            _reached.TrySetResult();
            await _released.Task;
        }
    }

    private sealed class Gated(IStorageBackend inner, ImageEntryGate gate) : IStorageBackend
    {
        public string Name => inner.Name;

        public string Location => inner.Location;

        public Task ProbeAsync(CancellationToken cancellationToken) => inner.ProbeAsync(cancellationToken);

        public bool IsOutage(Exception fault) => inner.IsOutage(fault);

        public Task<BlobProperties?> StatAsync(string path, CancellationToken cancellationToken) => inner.StatAsync(path, cancellationToken);

        public Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken) => inner.OpenReadAsync(path, cancellationToken);

        public async Task WriteAsync(string path, Stream content, string? contentType, CancellationToken cancellationToken)
        {
            await gate.PassAsync(path);
            await inner.WriteAsync(path, content, contentType, cancellationToken);
        }

        public Task<bool> TryCreateAsync(string path, ReadOnlyMemory<byte> content, string? contentType, CancellationToken cancellationToken) =>
            inner.TryCreateAsync(path, content, contentType, cancellationToken);

        public Task<bool> TryReplaceAsync(string path, ReadOnlyMemory<byte> content, string expectedETag, string? contentType, CancellationToken cancellationToken) =>
            inner.TryReplaceAsync(path, content, expectedETag, contentType, cancellationToken);

        public Task<IStagedUpload> BeginStagedUploadAsync(CancellationToken cancellationToken) => inner.BeginStagedUploadAsync(cancellationToken);

        public Task DeleteAsync(string path, CancellationToken cancellationToken) => inner.DeleteAsync(path, cancellationToken);

        public Task<bool> TryDeleteAsync(string path, string expectedETag, CancellationToken cancellationToken) => inner.TryDeleteAsync(path, expectedETag, cancellationToken);

        public IAsyncEnumerable<(string Path, DateTimeOffset Modified)> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

        public Task<Uri?> GetRedirectUrlAsync(string path, string contentType, CancellationToken cancellationToken) => inner.GetRedirectUrlAsync(path, contentType, cancellationToken);
    }
}
