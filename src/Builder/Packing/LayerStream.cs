// The one pass a layer makes through memory: tar bytes come in, are hashed (diff_id),
// deflated by the system zlib (Zlib.cs for why not .NET's), framed as gzip, hashed again
// (digest), counted and handed to the output. Buffers are fixed-size, so a layer of any
// size streams through in bounded memory.
//
// The gzip member is written by hand (RFC 1952) so that no field varies: no file name,
// MTIME 0, XFL 0, OS 255 ("unknown"), then the raw deflate data, then CRC-32 and ISIZE
// (input length mod 2^32), both little-endian.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Nixery.Core.Manifests;

namespace Nixery.Builder.Packing;

internal sealed class LayerStream : Stream
{
    private const int BufferSize = 128 * 1024;

    private static readonly byte[] GzipHeader = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

    private readonly Stream _output;
    private readonly IncrementalHash _tarHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash _gzipHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    // Pinned (pinned object heap) so zlib can be given their addresses without unsafe code.
    private readonly byte[] _in = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
    private readonly byte[] _out = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
    private readonly IntPtr _inAddress;
    private readonly IntPtr _outAddress;

    private IntPtr _zstream;
    private CULong _crc;
    private long _inputLength;
    private long _outputLength;
    private bool _finished;
    private bool _headerWritten;

    public LayerStream(Stream output)
    {
        _output = output;
        _inAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_in, 0);
        _outAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_out, 0);
        _zstream = Marshal.AllocHGlobal(Zlib.Size);
        for (var i = 0; i < Zlib.Size; i++)
        {
            Marshal.WriteByte(_zstream, i, 0); // zalloc/zfree/opaque null: zlib's own allocator
        }

        var status = Zlib.DeflateInit2(_zstream, Zlib.Level, Zlib.Deflated, Zlib.RawWindowBits, Zlib.MemLevel, Zlib.DefaultStrategy, Zlib.Version(), Zlib.Size);
        if (status != Zlib.Ok)
        {
            Marshal.FreeHGlobal(_zstream);
            _zstream = IntPtr.Zero;
            throw new InvalidOperationException($"zlib deflateInit2_ failed with status {status}");
        }

        _crc = Zlib.Crc32(default, IntPtr.Zero, 0);
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

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var chunk = Math.Min(buffer.Length, BufferSize);
            Absorb(buffer[..chunk]);
            buffer = buffer[chunk..];
            if (!_headerWritten)
            {
                _headerWritten = true;
                Emit(GzipHeader);
            }

            bool more;
            do
            {
                more = DeflateStep(Zlib.NoFlush, out var ready);
                Emit(_out.AsSpan(0, ready));
            }
            while (more);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var chunk = Math.Min(buffer.Length, BufferSize);
            Absorb(buffer.Span[..chunk]);
            buffer = buffer[chunk..];
            await EmitHeaderAsync(cancellationToken).ConfigureAwait(false);
            bool more;
            do
            {
                more = DeflateStep(Zlib.NoFlush, out var ready);
                await EmitAsync(ready, cancellationToken).ConfigureAwait(false);
            }
            while (more);
        }
    }

    /// <summary>Ends the deflate stream, writes the gzip trailer and returns the layer's numbers.</summary>
    public async Task<PackedLayer> FinishAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_zstream == IntPtr.Zero, this);
        await EmitHeaderAsync(cancellationToken).ConfigureAwait(false);
        bool more;
        do
        {
            more = DeflateStep(Zlib.Finish, out var ready);
            await EmitAsync(ready, cancellationToken).ConfigureAwait(false);
        }
        while (more);

        var trailer = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, (uint)_crc.Value);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer.AsSpan(4), (uint)_inputLength);
        trailer.CopyTo(_out, 0);
        await EmitAsync(trailer.Length, cancellationToken).ConfigureAwait(false);
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        _finished = true;

        return new PackedLayer(
            Digest.FromSha256Hash(_gzipHash.GetHashAndReset()),
            Digest.FromSha256Hash(_tarHash.GetHashAndReset()),
            _outputLength);
    }

    public override void Flush()
    {
        // Nothing to do: a deflate flush would change the compressed bytes.
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (_zstream != IntPtr.Zero)
        {
            _ = Zlib.DeflateEnd(_zstream);
            Marshal.FreeHGlobal(_zstream);
            _zstream = IntPtr.Zero;
        }

        if (disposing)
        {
            _tarHash.Dispose();
            _gzipHash.Dispose();
        }

        base.Dispose(disposing);
    }

    // Copies tar bytes into the pinned input buffer and accounts for them; zlib reads from there.
    private void Absorb(ReadOnlySpan<byte> chunk)
    {
        if (_finished || _zstream == IntPtr.Zero)
        {
            throw new InvalidOperationException("the layer stream is already finished");
        }

        chunk.CopyTo(_in);
        _tarHash.AppendData(chunk);
        _crc = Zlib.Crc32(_crc, _inAddress, (uint)chunk.Length);
        _inputLength += chunk.Length;
        Marshal.WriteIntPtr(_zstream, Zlib.NextInOffset, _inAddress);
        Marshal.WriteInt32(_zstream, Zlib.AvailInOffset, chunk.Length);
    }

    // One deflate call into the empty output buffer. Returns true when the caller must emit
    // `ready` bytes and call again (output full, or more to finish).
    private bool DeflateStep(int flush, out int ready)
    {
        Marshal.WriteIntPtr(_zstream, Zlib.NextOutOffset, _outAddress);
        Marshal.WriteInt32(_zstream, Zlib.AvailOutOffset, BufferSize);
        var status = Zlib.Deflate(_zstream, flush);
        if (status != Zlib.Ok && status != Zlib.StreamEnd && status != Zlib.BufError)
        {
            var message = Marshal.PtrToStringAnsi(Marshal.ReadIntPtr(_zstream, Zlib.MsgOffset));
            throw new InvalidOperationException($"zlib deflate failed with status {status}: {message}");
        }

        var availOut = Marshal.ReadInt32(_zstream, Zlib.AvailOutOffset);
        ready = BufferSize - availOut;
        if (flush == Zlib.Finish)
        {
            return status != Zlib.StreamEnd;
        }

        // With input left or the output buffer full, zlib has more to give.
        return availOut == 0;
    }

    private async ValueTask EmitHeaderAsync(CancellationToken cancellationToken)
    {
        if (!_headerWritten)
        {
            _headerWritten = true;
            GzipHeader.CopyTo(_out, 0);
            await EmitAsync(GzipHeader.Length, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        _gzipHash.AppendData(bytes);
        _outputLength += bytes.Length;
        _output.Write(bytes);
    }

    private async ValueTask EmitAsync(int count, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return;
        }

        _gzipHash.AppendData(_out.AsSpan(0, count));
        _outputLength += count;
        await _output.WriteAsync(_out.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
    }
}
