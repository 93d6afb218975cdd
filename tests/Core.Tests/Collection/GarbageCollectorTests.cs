// The garbage collector (src/Core/Collection/GarbageCollector.cs) on every backend: the
// filesystem and Azure Blob on Azurite run the same tests. Images are written here in the
// builder's order (blobs, layer records, manifests, SBOM artifacts and referrers, catalog entry,
// image entry last) with small made-up contents, so each test spells out exactly which objects
// stay. Storage stamps objects with the real clock; the collector's clock is a FakeTimeProvider
// that starts at the real time, so "a day later" is a step of the clock.
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nixery.Core.Builds;
using Nixery.Core.Collection;
using Nixery.Core.Manifests;
using Nixery.Core.Options;
using Nixery.Core.Storage;
using Nixery.Core.Tests.Storage;

namespace Nixery.Core.Tests.Collection;

public abstract class GarbageCollectorTests(TestBackend backends) : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    private readonly Dictionary<Digest, long> _sizes = [];

    private IStorageBackend? _backend;

    private IStorageBackend Backend => _backend ?? throw new InvalidOperationException("backend not created yet");

    private RegistryStore Store => new(Backend);

    private BuildLedger Ledger => new(Backend, new StatusOptions(), _clock);

    public async Task InitializeAsync() => _backend = await backends.CreateAsync();

    public async Task DisposeAsync() => await backends.DisposeAsync();

    [Fact]
    public async Task AfterRetentionAnImageNotPulledGoesWithEverythingOnlyItNamedAndAPulledOneStaysWhole()
    {
        var a = await SeedImageAsync("git/shell", ["shared", "git"]);
        var b = await SeedImageAsync("htop/shell", ["shared", "htop"]);
        var orphan = await PutAsync(Encoding.UTF8.GetBytes("left by a failed build"), MediaTypes.OctetStream);
        var recorder = new PullRecorder(Store, _clock, NullLogger<PullRecorder>.Instance);

        _clock.Advance(Retention + TimeSpan.FromHours(2));
        recorder.RecordImage(a.Key, a.Name);
        await recorder.FlushAsync();
        var report = await Collector().CollectAsync(dryRun: false, Ct);

        Assert.Equal(Sorted(a.Blobs.Select(d => d.ToString())), await BlobsAsync());
        Assert.Equal([StorageLayout.Image(a.Key)], await ListAsync(StorageLayout.ImagePrefix));
        Assert.Equal(Sorted(a.LayerKeys.Select(StorageLayout.Layer)), await ListAsync(StorageLayout.LayerPrefix));
        Assert.Equal(Sorted(a.Manifests.Select(StorageLayout.Referrers)), await ListAsync(StorageLayout.ReferrersPrefix));
        Assert.Equal([StorageLayout.Status(a.Key)], await ListAsync(StorageLayout.StatusPrefix));
        Assert.Equal([StorageLayout.CatalogEntry(a.Name)], await ListAsync(StorageLayout.CatalogPrefix));
        Assert.Equal([StorageLayout.Pull(a.Key)], await ListAsync(StorageLayout.PullPrefix));
        await AssertBlobsHashToTheirDigestsAsync(a.Blobs);

        var freedBlobs = b.Blobs.Except(a.Blobs).Append(orphan).ToList();
        Assert.Equal(1, report.Images.Count);
        Assert.Equal(freedBlobs.Count, report.Blobs.Count);
        Assert.Equal(freedBlobs.Sum(d => _sizes[d]), report.Blobs.Bytes);
        Assert.Equal(1, report.LayerRecords.Count);
        Assert.Equal(2, report.Referrers.Count);
        Assert.Equal(1, report.Statuses.Count);
        Assert.Equal(0, report.PullRecords.Count);
        Assert.Equal(1, report.CatalogEntries.Count);
        Assert.Equal(1, report.ImagesKept);
        Assert.Equal(a.Blobs.Count, report.BlobsKept);
        Assert.False(report.BlobsDeferred);
    }

    [Fact]
    public async Task ADryRunDeletesNothingAndReportsWhatTheCollectionThenFrees()
    {
        await SeedImageAsync("git/shell", ["shared", "git"]);
        await SeedImageAsync("htop/shell", ["shared", "htop"]);
        await PutAsync(Encoding.UTF8.GetBytes("left by a failed build"), MediaTypes.OctetStream);
        _clock.Advance(Retention + TimeSpan.FromHours(2));
        var before = await ListAsync("");

        var dry = await Collector().CollectAsync(dryRun: true, Ct);
        Assert.Equal(before, await ListAsync(""));

        var real = await Collector().CollectAsync(dryRun: false, Ct);
        Assert.True(dry.DryRun);
        Assert.Equal(real with { DryRun = true }, dry);
        Assert.Equal(2, real.Images.Count);
        Assert.Empty(await BlobsAsync());
    }

    [Fact]
    public async Task WhatABuildInProgressHasWrittenSurvivesTheGracePeriodAndItsImageIsWholeOnceWritten()
    {
        var a = await SeedImageAsync("git/shell", ["shared", "git"]);
        // A build that has written every blob, record and referrers index, but not its image entry.
        var building = await SeedImageAsync("curl/shell", ["shared", "curl"], writeImageEntry: false);
        var orphan = await PutAsync(Encoding.UTF8.GetBytes("left by a failed build"), MediaTypes.OctetStream);

        _clock.Advance(TimeSpan.FromMinutes(10));
        var during = await Collector().CollectAsync(dryRun: false, Ct);
        Assert.Equal(default, during.Blobs);
        Assert.Equal(default, during.LayerRecords);
        Assert.Equal(default, during.Referrers);
        Assert.Equal(default, during.CatalogEntries);
        Assert.Equal(Sorted(a.Blobs.Concat(building.Blobs).Append(orphan).Select(d => d.ToString()).Distinct()), await BlobsAsync());

        // The build ends; two hours on, past the grace period, only the orphan goes.
        await Store.PutImageAsync(building.Key, building.Record, Ct);
        _clock.Advance(TimeSpan.FromHours(2));
        var after = await Collector().CollectAsync(dryRun: false, Ct);
        Assert.Equal(1, after.Blobs.Count);
        var kept = a.Blobs.Concat(building.Blobs).ToHashSet();
        Assert.Equal(Sorted(kept.Select(d => d.ToString())), await BlobsAsync());
        await AssertBlobsHashToTheirDigestsAsync(kept);
        Assert.Equal(Sorted(a.LayerKeys.Concat(building.LayerKeys).Distinct().Select(StorageLayout.Layer)), await ListAsync(StorageLayout.LayerPrefix));
    }

    [Fact]
    public async Task UnreferencedBlobsWaitWhileABuildIsQueuedAndGoOnceItHasEnded()
    {
        var a = await SeedImageAsync("git/shell", ["shared", "git"]);
        var orphan = await PutAsync(Encoding.UTF8.GetBytes("left by a failed build"), MediaTypes.OctetStream);
        Assert.True(await Ledger.ClaimAsync("queued-image", "job-1", Ct));

        _clock.Advance(TimeSpan.FromMinutes(10));
        var options = new CollectionOptions { RetentionDays = 1, GraceSeconds = 60 };
        var during = await Collector(options).CollectAsync(dryRun: false, Ct);
        Assert.True(during.BlobsDeferred);
        Assert.Equal(default, during.Blobs);
        Assert.Contains(orphan.ToString(), await BlobsAsync());

        await Ledger.SucceedAsync("queued-image", "job-1", Ct);
        var after = await Collector(options).CollectAsync(dryRun: false, Ct);
        Assert.False(after.BlobsDeferred);
        Assert.Equal(1, after.Blobs.Count);
        Assert.Equal(Sorted(a.Blobs.Select(d => d.ToString())), await BlobsAsync());
    }

    [Fact]
    public async Task WithRetentionOffNothingIsCollected()
    {
        await SeedImageAsync("git/shell", ["git"]);
        _clock.Advance(TimeSpan.FromDays(400));
        var before = await ListAsync("");

        var report = await Collector(new CollectionOptions()).CollectAsync(dryRun: false, Ct);

        Assert.Equal("retention is off (NIXERY_RETENTION is 0)", report.Skipped);
        Assert.Equal(before, await ListAsync(""));
    }

    [Fact]
    public async Task AnExpiredImageBuiltAgainDuringTheCollectionKeepsTheOldBlobsItReuses()
    {
        var a = await SeedImageAsync("git/shell", ["shared", "git"]);
        _clock.Advance(Retention + TimeSpan.FromHours(2));
        // A pull right after the entry is deleted builds the image again at once from the layer
        // cache: its entry is back before the collector looks for running builds.
        var rebuilding = new RebuildOnDelete(Backend, StorageLayout.Image(a.Key), a.Record);
        var collector = new GarbageCollector(rebuilding, new RegistryStore(rebuilding), Ledger, new CollectionOptions { RetentionDays = 1 }, _clock, NullLogger<GarbageCollector>.Instance);

        var report = await collector.CollectAsync(dryRun: false, Ct);

        Assert.Equal(1, report.Images.Count);
        Assert.Equal(1, report.ImagesKept);
        Assert.Equal(default, report.Blobs);
        Assert.Equal(Sorted(a.Blobs.Select(d => d.ToString())), await BlobsAsync());
        await AssertBlobsHashToTheirDigestsAsync(a.Blobs);
    }

    private GarbageCollector Collector(CollectionOptions? options = null) =>
        new(Backend, Store, Ledger, options ?? new CollectionOptions { RetentionDays = 1 }, _clock, NullLogger<GarbageCollector>.Instance);

    private sealed record SeededImage(string Key, string Name, ImageRecord Record, IReadOnlySet<Digest> Blobs, IReadOnlyList<string> LayerKeys, IReadOnlyList<Digest> Manifests);

    /// <summary>Writes an image as the builder does, in its order; its layers' contents are
    /// their names, so images that name a layer alike share it.</summary>
    private async Task<SeededImage> SeedImageAsync(string name, IReadOnlyList<string> layers, bool writeImageEntry = true)
    {
        var key = Digest.Sha256Hex("image " + name);
        var blobs = new HashSet<Digest>();
        var descriptors = new List<Descriptor>();
        var layerKeys = new List<string>();
        foreach (var layer in layers)
        {
            var bytes = Encoding.UTF8.GetBytes("layer " + layer);
            var digest = await PutAsync(bytes, MediaTypes.DockerLayerGzip);
            var layerKey = Digest.Sha256Hex("layer " + layer);
            await Store.PutLayerAsync(layerKey, new LayerRecord(digest.ToString(), digest.ToString(), bytes.Length), Ct);
            blobs.Add(digest);
            layerKeys.Add(layerKey);
            descriptors.Add(new Descriptor(MediaTypes.DockerLayerGzip, bytes.Length, digest.ToString()));
        }

        var config = Encoding.UTF8.GetBytes($"{{\"image\":\"{name}\"}}");
        var configDigest = await PutAsync(config, MediaTypes.DockerConfig);
        blobs.Add(configDigest);
        var variants = new List<ManifestVariant>();
        foreach (var type in new[] { MediaTypes.DockerManifest, MediaTypes.OciManifest })
        {
            var manifest = JsonSerializer.SerializeToUtf8Bytes(new ImageManifest(2, type, new Descriptor(MediaTypes.DockerConfig, config.Length, configDigest.ToString()), descriptors), CoreJson.Default.ImageManifest);
            var digest = await PutAsync(manifest, type);
            blobs.Add(digest);
            variants.Add(new ManifestVariant(type, digest.ToString(), manifest.Length));
        }

        var sbom = Encoding.UTF8.GetBytes("sbom of " + name);
        var sbomDigest = await PutAsync(sbom, MediaTypes.CycloneDxJson);
        var empty = await PutAsync("{}"u8.ToArray(), MediaTypes.OciEmpty);
        blobs.Add(sbomDigest);
        blobs.Add(empty);
        var manifests = new List<Digest>();
        foreach (var subject in variants)
        {
            var artifact = JsonSerializer.SerializeToUtf8Bytes(
                new ImageManifest(2, MediaTypes.OciManifest, new Descriptor(MediaTypes.OciEmpty, 2, empty.ToString()), [new Descriptor(MediaTypes.CycloneDxJson, sbom.Length, sbomDigest.ToString())],
                    MediaTypes.CycloneDxJson, new Descriptor(subject.MediaType, subject.Size, subject.Digest)),
                CoreJson.Default.ImageManifest);
            var artifactDigest = await PutAsync(artifact, MediaTypes.OciManifest);
            blobs.Add(artifactDigest);
            var subjectDigest = Digest.TryParse(subject.Digest, out var d) ? d.Value : throw new InvalidDataException(subject.Digest);
            manifests.Add(subjectDigest);
            await Store.PutReferrersAsync(subjectDigest, ReferrersIndex.Of([new ReferrerDescriptor(MediaTypes.OciManifest, artifact.Length, artifactDigest.ToString(), MediaTypes.CycloneDxJson)]), Ct);
        }

        await Store.PutCatalogEntryAsync(name, Ct);
        var record = new ImageRecord(variants[0].Digest, variants[0].MediaType, variants[0].Size, [.. name.Split('/')], variants);
        if (writeImageEntry)
        {
            Assert.True(await Ledger.ClaimAsync(key, "job-" + name, Ct));
            await Ledger.StartAsync(key, "job-" + name, Ct);
            await Store.PutImageAsync(key, record, Ct);
            await Ledger.SucceedAsync(key, "job-" + name, Ct);
        }

        return new SeededImage(key, name, record, blobs, layerKeys, manifests);
    }

    /// <summary>Stores a blob and remembers its size, for the bytes a report counts.</summary>
    private async Task<Digest> PutAsync(byte[] content, string mediaType)
    {
        var digest = await Store.PutBlobAsync(content, mediaType, Ct);
        _sizes[digest] = content.Length;
        return digest;
    }

    private async Task AssertBlobsHashToTheirDigestsAsync(IEnumerable<Digest> digests)
    {
        foreach (var digest in digests)
        {
            await using var stream = await Store.OpenBlobAsync(digest, Ct) ?? throw new Xunit.Sdk.XunitException($"blob {digest} is missing");
            using var content = new MemoryStream();
            await stream.CopyToAsync(content, Ct);
            Assert.Equal(digest, Digest.Sha256(content.ToArray()));
        }
    }

    private async Task<List<string>> BlobsAsync() =>
        [.. (await ListAsync(StorageLayout.BlobPrefix)).Select(p => StorageLayout.DigestOfBlob(p)!.Value.ToString()).Order(StringComparer.Ordinal)];

    private async Task<List<string>> ListAsync(string prefix)
    {
        var paths = new List<string>();
        await foreach (var (path, _) in Backend.ListAsync(prefix, Ct))
        {
            paths.Add(path);
        }

        return Sorted(paths);
    }

    private static List<string> Sorted(IEnumerable<string> items) => [.. items.Order(StringComparer.Ordinal)];
}

/// <summary>Writes the image entry again right after it is deleted (an instant rebuild).</summary>
internal sealed class RebuildOnDelete(IStorageBackend inner, string imagePath, ImageRecord record) : IStorageBackend
{
    public string Name => inner.Name;

    public Task<BlobProperties?> StatAsync(string path, CancellationToken cancellationToken) => inner.StatAsync(path, cancellationToken);

    public Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken) => inner.OpenReadAsync(path, cancellationToken);

    public Task WriteAsync(string path, Stream content, string? contentType, CancellationToken cancellationToken) => inner.WriteAsync(path, content, contentType, cancellationToken);

    public Task<bool> TryCreateAsync(string path, ReadOnlyMemory<byte> content, string? contentType, CancellationToken cancellationToken) =>
        inner.TryCreateAsync(path, content, contentType, cancellationToken);

    public Task<bool> TryReplaceAsync(string path, ReadOnlyMemory<byte> content, string expectedETag, string? contentType, CancellationToken cancellationToken) =>
        inner.TryReplaceAsync(path, content, expectedETag, contentType, cancellationToken);

    public Task<IStagedUpload> BeginStagedUploadAsync(CancellationToken cancellationToken) => inner.BeginStagedUploadAsync(cancellationToken);

    public async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        await inner.DeleteAsync(path, cancellationToken);
        if (path == imagePath)
        {
            await new RegistryStore(inner).PutImageAsync(StorageLayout.ImageKeyOfImage(path)!, record, cancellationToken);
        }
    }

    public Task<bool> TryDeleteAsync(string path, string expectedETag, CancellationToken cancellationToken) => inner.TryDeleteAsync(path, expectedETag, cancellationToken);

    public IAsyncEnumerable<(string Path, DateTimeOffset Modified)> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

    public Task<Uri?> GetRedirectUrlAsync(string path, string contentType, CancellationToken cancellationToken) => inner.GetRedirectUrlAsync(path, contentType, cancellationToken);
}

public sealed class GarbageCollectorOnFileSystemTests() : GarbageCollectorTests(new FileSystemTestBackend());

public sealed class GarbageCollectorOnAzuriteTests(AzureBlobFixture azurite) : GarbageCollectorTests(new AzuriteTestBackend(azurite)), IClassFixture<AzureBlobFixture>;
