// The cores and the memory that packing may use, shared by every layer a worker packs at
// once (ImageBuilder packs up to NIXERY_PACK_CONCURRENCY layers side by side, and each
// layer's chunks are compressed side by side, DeflateChunks.cs).
//
// - Compression: Concurrency threads of the pool's own compress chunks, one at a time each,
//   oldest first, each with its own compressor (libdeflate's state is 668,295 bytes at level
//   6, plus zlib's inflate state and 32 KiB window for the walk). Not the .NET thread pool:
//   a chunk keeps a thread busy for 15 ms or more, and the thread pool starts with one
//   thread per processor and adds more only slowly, so the tar writers' file reads and the
//   uploads, which run there, could queue behind compression.
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

    private readonly SemaphoreSlim _chunks;
    private readonly ConcurrentBag<Chunk> _freeChunks = [];
    private readonly BlockingCollection<Work> _work = [];
    private readonly Lazy<Thread[]> _threads;

    public PackingPool(int concurrency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        Concurrency = concurrency;
        _chunks = new SemaphoreSlim(2 * concurrency, 2 * concurrency);
        _threads = new(() => [.. Enumerable.Range(0, concurrency).Select(i =>
        {
            var thread = new Thread(CompressLoop) { IsBackground = true, Name = $"nixery-deflate-{i}" };
            thread.Start();
            return thread;
        })]);
    }

    /// <summary>A pool as wide as this machine's processors, for callers that bring none.</summary>
    public static PackingPool Default => Shared.Value;

    /// <summary>Chunks compressed at once, and layers packed at once by ImageBuilder.</summary>
    public int Concurrency { get; }

    public void Dispose()
    {
        _work.CompleteAdding();
        if (_threads.IsValueCreated)
        {
            foreach (var thread in _threads.Value)
            {
                thread.Join();
            }
        }

        _work.Dispose();
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

    /// <summary>Compresses the chunk on one of the pool's threads, in the order asked.</summary>
    internal Task CompressAsync(Chunk chunk, bool final, CancellationToken ct)
    {
        _ = _threads.Value;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(new Work(chunk, final, done, ct), CancellationToken.None);
        return done.Task;
    }

    // One thread's loop; its compressor is made on its first chunk (a failing known-answer
    // test fails that chunk, not the thread) and freed when the pool is disposed.
    private void CompressLoop()
    {
        ChunkCompressor? compressor = null;
        try
        {
            foreach (var work in _work.GetConsumingEnumerable())
            {
                if (work.Ct.IsCancellationRequested)
                {
                    work.Done.SetCanceled(work.Ct);
                    continue;
                }

                try
                {
                    compressor ??= new ChunkCompressor();
                    compressor.Compress(work.Chunk, work.Final);
                    work.Done.SetResult();
                }
                catch (Exception e)
                {
                    work.Done.SetException(e);
                }
            }
        }
        finally
        {
            compressor?.Dispose();
        }
    }

    private Chunk Take() => _freeChunks.TryTake(out var chunk) ? chunk : new Chunk();

    private sealed record Work(Chunk Chunk, bool Final, TaskCompletionSource Done, CancellationToken Ct);
}
