// The one pass a layer makes through memory: tar bytes come in and are hashed (diff_id) and
// checksummed (CRC-32 of the whole tar) as they arrive, cut into 1 MiB chunks that are
// compressed side by side on the pool's threads (DeflateChunks.cs), and the compressed chunks
// go out strictly in input order: framed as one gzip member, hashed again (digest), counted
// and handed to the output (the upload) as soon as each one is ready. Memory is the pool's
// bound (PackingPool.cs), whatever the size of the layer.
//
// The gzip member is written by hand (RFC 1952) so that no field varies: no file name,
// MTIME 0, XFL 0, OS 255 ("unknown"), then the joined deflate data, then CRC-32 and ISIZE
// (input length mod 2^32), both little-endian.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Nixery.Core.Manifests;

namespace Nixery.Builder.Packing;

internal sealed class LayerStream : Stream
{
    private static readonly byte[] GzipHeader = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

    private readonly Stream _output;
    private readonly PackingPool _pool;
    private readonly CancellationToken _ct;
    private readonly IncrementalHash _tarHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash _gzipHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    // Chunks handed to the pool, oldest first; written out in this order.
    private readonly Queue<(Chunk Chunk, Task Compressed)> _inFlight = new();

    private Chunk? _filling;
    private uint _crc;
    private long _inputLength;
    private long _outputLength;
    private bool _headerWritten;
    private bool _finished;
    private bool _disposed;

    public LayerStream(Stream output, PackingPool pool, CancellationToken ct)
    {
        _output = output;
        _pool = pool;
        _ct = ct;
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_finished;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _inputLength; // TarWriter asks; the tar offset is the input length
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer) =>
        WriteAsync(buffer.ToArray(), _ct).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished)
        {
            throw new InvalidOperationException("the layer stream is already finished");
        }

        while (!buffer.IsEmpty)
        {
            _filling ??= await NextChunkAsync().ConfigureAwait(false);
            var chunk = _filling;
            var count = Math.Min(buffer.Length, Chunk.Size - chunk.InputLength);
            Absorb(buffer.Span[..count], chunk);
            buffer = buffer[count..];
            if (chunk.InputLength == Chunk.Size)
            {
                _filling = null;
                _inFlight.Enqueue((chunk, _pool.CompressAsync(chunk, final: false, _ct)));
            }
        }
    }

    /// <summary>Compresses the rest as the final chunk, writes everything out with the gzip
    /// trailer and returns the layer's numbers.</summary>
    public async Task<PackedLayer> FinishAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var last = _filling ?? await NextChunkAsync().ConfigureAwait(false);
        _filling = null;
        _inFlight.Enqueue((last, _pool.CompressAsync(last, final: true, _ct)));
        while (_inFlight.Count > 0)
        {
            _pool.Return(await WriteOldestAsync().ConfigureAwait(false));
        }

        var trailer = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, _crc);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer.AsSpan(4), (uint)_inputLength);
        await EmitAsync(trailer).ConfigureAwait(false);
        await _output.FlushAsync(_ct).ConfigureAwait(false);
        _finished = true;

        return new PackedLayer(
            Digest.FromSha256Hash(_gzipHash.GetHashAndReset()),
            Digest.FromSha256Hash(_tarHash.GetHashAndReset()),
            _outputLength);
    }

    public override void Flush()
    {
        // Nothing to do: chunk boundaries are fixed by input offsets, never by flushes.
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await ReleaseAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            ReleaseAsync().GetAwaiter().GetResult();
            _tarHash.Dispose();
            _gzipHash.Dispose();
            _disposed = true;
        }

        base.Dispose(disposing);
    }

    // Gives every chunk back to the pool, after native code is done with it (a failed or
    // abandoned layer still has compressions running into its buffers).
    private async Task ReleaseAsync()
    {
        while (_inFlight.TryDequeue(out var pending))
        {
            try
            {
                await pending.Compressed.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The layer failed or was cancelled; its bytes are thrown away.
            }

            _pool.Return(pending.Chunk);
        }

        if (_filling is { } filling)
        {
            _filling = null;
            _pool.Return(filling);
        }
    }

    // Tar bytes into the chunk being filled, through both running checks.
    private void Absorb(ReadOnlySpan<byte> bytes, Chunk chunk)
    {
        bytes.CopyTo(chunk.Input.AsSpan(chunk.InputLength));
        _tarHash.AppendData(bytes);
        _crc = LibDeflate.Crc32(_crc, Marshal.UnsafeAddrOfPinnedArrayElement(chunk.Input, chunk.InputLength), (nuint)bytes.Length);
        chunk.InputLength += bytes.Length;
        _inputLength += bytes.Length;
    }

    // A chunk to fill: a free one from the pool while this layer has fewer than Concurrency in
    // flight; else this layer's oldest, once written out (never waiting on other layers while
    // holding chunks); else the pool's next free one.
    private async ValueTask<Chunk> NextChunkAsync()
    {
        while (_inFlight.Count > 0 && _inFlight.Peek().Compressed.IsCompleted)
        {
            _pool.Return(await WriteOldestAsync().ConfigureAwait(false));
        }

        if (_inFlight.Count < _pool.Concurrency && _pool.TryRent(out var free))
        {
            return free;
        }

        if (_inFlight.Count > 0)
        {
            var reused = await WriteOldestAsync().ConfigureAwait(false);
            reused.InputLength = 0;
            reused.OutputLength = 0;
            return reused;
        }

        return await _pool.RentAsync(_ct).ConfigureAwait(false);
    }

    // Waits for the oldest chunk, writes its deflate bytes out and returns it (still rented).
    private async Task<Chunk> WriteOldestAsync()
    {
        var (chunk, compressed) = _inFlight.Peek();
        await compressed.ConfigureAwait(false); // a failure leaves it queued for ReleaseAsync
        _inFlight.Dequeue();
        try
        {
            if (!_headerWritten)
            {
                _headerWritten = true;
                await EmitAsync(GzipHeader).ConfigureAwait(false);
            }

            await EmitAsync(chunk.Output.AsMemory(0, chunk.OutputLength)).ConfigureAwait(false);
            return chunk;
        }
        catch (Exception)
        {
            _pool.Return(chunk);
            throw;
        }
    }

    private async ValueTask EmitAsync(ReadOnlyMemory<byte> bytes)
    {
        _gzipHash.AppendData(bytes.Span);
        _outputLength += bytes.Length;
        await _output.WriteAsync(bytes, _ct).ConfigureAwait(false);
    }
}
