// The layer cache (src/Builder/Images/LayerCache.cs) between workers that share a storage
// folder: a layer is packed once and reused after; a worker that needs a layer another is
// packing waits for it; a worker that loses its lease while packing stops and takes the
// layer from the worker that took it over. Each worker has its own FakeTimeProvider, as each
// machine has its own clock; the tests wait for what the cache logs, never for time.
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Nixery.Builder.Images;
using Nixery.Builder.Packing;
using Nixery.Core.Manifests;
using Nixery.Core.Storage;
using Nixery.TestSupport;

namespace Nixery.Builder.Tests.Images;

public sealed class LayerCacheTests : IDisposable
{
    private const string Key = "k";

    private static readonly CancellationToken Ct = CancellationToken.None;

    private static readonly ImageBuilderOptions Options = new(LayerBudget: 94, LayerClaimStaleAfter: TimeSpan.FromSeconds(30), PackConcurrency: 2);

    /// <summary>How long an event may take before the test fails (the storage is real I/O).</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static readonly byte[] Bytes = "a layer's bytes"u8.ToArray();

    private static readonly BuiltLayer Expected = new(Digest.Sha256(Bytes), Digest.Sha256(Bytes), Bytes.Length);

    private readonly TempDir _folder = new("nixery-layer-cache");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task ALayerIsPackedOnceAndReusedAfter()
    {
        var worker = new Worker(_folder.Path);
        var packs = 0;
        var source = new LayerSource(Key, Bytes.Length, (stream, _, token) =>
        {
            Interlocked.Increment(ref packs);
            return WriteAsync(stream, token);
        });

        Assert.Equal([Expected], await worker.Cache.GetAsync([source], "img", (_, _) => Task.CompletedTask, Ct));
        Assert.Equal($"packed layer {Key} 1/1 of img as {Expected.Digest} ({Bytes.Length} bytes)", await worker.Log.NextAsync("packed layer"));
        Assert.Equal([Expected], await worker.Cache.GetAsync([source], "img", (_, _) => Task.CompletedTask, Ct));
        Assert.Equal($"reused layer {Key} 1/1 of img as {Expected.Digest}", await worker.Log.NextAsync("reused layer"));
        Assert.Equal(1, packs);
    }

    [Fact]
    public async Task AWorkerWaitsForALayerAnotherIsPackingAndReusesIt()
    {
        var packer = new Worker(_folder.Path);
        var waiter = new Worker(_folder.Path);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var packing = packer.Cache.GetAsync([new LayerSource(Key, Bytes.Length, async (stream, _, token) =>
        {
            started.SetResult();
            await release.Task.WaitAsync(token);
            return await WriteAsync(stream, token);
        })], "img", (_, _) => Task.CompletedTask, Ct);
        await started.Task.WaitAsync(Bound, Ct);

        var waiting = waiter.Cache.GetAsync([new LayerSource(Key, Bytes.Length, (_, _, _) => throw new InvalidOperationException("packed twice"))], "other", (_, _) => Task.CompletedTask, Ct);
        Assert.Equal($"waiting for layer {Key} 1/1 of other: another worker is packing it", await waiter.Log.NextAsync("waiting for layer"));
        release.SetResult();
        Assert.Equal([Expected], await packing);
        waiter.Clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal([Expected], await waiting);
        Assert.Equal($"reused layer {Key} 1/1 of other as {Expected.Digest}", await waiter.Log.NextAsync("reused layer"));
    }

    [Fact]
    public async Task AWorkerThatLosesItsLeaseStopsPackingAndTakesTheLayerFromTheNewPacker()
    {
        // The first worker stalls in its packing past the lease's lifetime (its clock stands
        // still meanwhile, so it does not renew); the second, whose clock has moved on, takes
        // the layer over and packs it.
        var stalled = new Worker(_folder.Path);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = stalled.Cache.GetAsync([new LayerSource(Key, Bytes.Length, async (_, _, token) =>
        {
            await using var registration = token.Register(() => cancelled.TrySetResult());
            started.SetResult();
            await Task.Delay(Timeout.Infinite, token);
            throw new InvalidOperationException("not reached");
        })], "img", (_, _) => Task.CompletedTask, Ct);
        await started.Task.WaitAsync(Bound, Ct);
        var other = new Worker(_folder.Path);
        other.Clock.Advance(Options.LayerClaimStaleAfter);
        Assert.Equal([Expected], await other.Cache.GetAsync([new LayerSource(Key, Bytes.Length, (stream, _, token) => WriteAsync(stream, token))], "img", (_, _) => Task.CompletedTask, Ct));

        // The stalled worker resumes: its renewal finds the lease taken, which cancels the packing.
        stalled.Clock.Advance(Options.LayerClaimStaleAfter / 3);
        await cancelled.Task.WaitAsync(Bound, Ct);

        Assert.Equal([Expected], await first);
        Assert.Equal($"lost the lease on layer {Key} 1/1 of img while packing it; waiting for it or packing it again", await stalled.Log.NextAsync("lost the lease"));
        Assert.Equal($"reused layer {Key} 1/1 of img as {Expected.Digest}", await stalled.Log.NextAsync("reused layer"));
    }

    private static async Task<PackedLayer> WriteAsync(Stream stream, CancellationToken token)
    {
        await stream.WriteAsync(Bytes, token);
        return new PackedLayer(Expected.Digest, Expected.DiffId, Expected.Size);
    }

    /// <summary>One worker: its own clock, its own cache over the shared folder, its log.</summary>
    private sealed class Worker
    {
        public Worker(string folder)
        {
            var backend = new FileSystemStorage(folder);
            var store = new RegistryStore(backend);
            Cache = new LayerCache(store, new StorageLeases(backend, Clock, NullLogger<StorageLease>.Instance), Options, Clock, Log);
        }

        public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

        public LogLines<LayerCache> Log { get; } = new();

        public LayerCache Cache { get; }
    }
}
