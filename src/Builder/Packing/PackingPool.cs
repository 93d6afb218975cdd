// The cores and the memory that packing may use, shared by every layer a worker packs at
// once (ImageBuilder packs up to NIXERY_PACK_CONCURRENCY layers side by side, and each
// layer's chunks are compressed side by side, DeflateChunks.cs).
//
// - Compression: at most Concurrency chunks are compressed at a time, each by one of at most
//   Concurrency compressors (libdeflate's state is 668,295 bytes at level 6, plus zlib's
//   inflate state and 32 KiB window for the walk).
// - Memory: at most 2 × Concurrency chunk buffers exist (1 MiB of tar in, 1 MiB + 1 KiB of
//   deflate out). A layer never holds more than Concurrency + 1 of them, and a layer that
//   finds none free reuses its own oldest once that is written out, so no layer waits on
//   another while holding buffers. Bound: 2 × Concurrency × 2 MiB + Concurrency × 0.7 MiB,
//   about 9.4 MiB for 2 cores and 75 MiB for 16, whatever the size or number of layers; the
//   tar writer and the upload add their own fixed buffers per layer.
using System.Collections.Concurrent;

namespace Nixery.Builder.Packing;

public sealed class PackingPool : IDisposable
{
    private static readonly Lazy<PackingPool> Shared = new(() => new PackingPool(Environment.ProcessorCount));

    private readonly SemaphoreSlim _compressing;
    private readonly SemaphoreSlim _chunks;
    private readonly ConcurrentBag<ChunkCompressor> _compressors = [];
    private readonly ConcurrentBag<Chunk> _freeChunks = [];

    public PackingPool(int concurrency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        Concurrency = concurrency;
        _compressing = new SemaphoreSlim(concurrency, concurrency);
        _chunks = new SemaphoreSlim(2 * concurrency, 2 * concurrency);
    }

    /// <summary>A pool as wide as this machine's processors, for callers that bring none.</summary>
    public static PackingPool Default => Shared.Value;

    /// <summary>Chunks compressed at once, and layers packed at once by ImageBuilder.</summary>
    public int Concurrency { get; }

    public void Dispose()
    {
        while (_compressors.TryTake(out var compressor))
        {
            compressor.Dispose();
        }

        _compressing.Dispose();
        _chunks.Dispose();
    }

    internal bool TryRent(out Chunk chunk)
    {
        if (_chunks.Wait(0))
        {
            chunk = Take();
            return true;
        }

        chunk = null!;
        return false;
    }

    internal async ValueTask<Chunk> RentAsync(CancellationToken ct)
    {
        await _chunks.WaitAsync(ct).ConfigureAwait(false);
        return Take();
    }

    internal void Return(Chunk chunk)
    {
        chunk.InputLength = 0;
        chunk.OutputLength = 0;
        _freeChunks.Add(chunk);
        _chunks.Release();
    }

    /// <summary>Compresses the chunk on a pool thread once a compressor is free.</summary>
    internal Task CompressAsync(Chunk chunk, bool final, CancellationToken ct) => Task.Run(
        async () =>
        {
            await _compressing.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                var compressor = _compressors.TryTake(out var free) ? free : new ChunkCompressor();
                try
                {
                    compressor.Compress(chunk, final);
                }
                finally
                {
                    _compressors.Add(compressor);
                }
            }
            finally
            {
                _compressing.Release();
            }
        },
        ct);

    private Chunk Take() => _freeChunks.TryTake(out var chunk) ? chunk : new Chunk();
}
