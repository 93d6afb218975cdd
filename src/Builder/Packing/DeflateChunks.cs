// One deflate stream made of independently compressed chunks, the way pigz makes one
// (zlib.net/pigz/pigz.pdf: "each partial raw deflate stream is terminated by an empty stored
// block … in order to end that partial bit stream at a byte boundary. That allows the partial
// streams to be concatenated simply as sequences of bytes").
//
// The tar stream is cut at fixed input offsets: chunk i is bytes [i·1 MiB, (i+1)·1 MiB), and
// the rest after the last full chunk (0 to 1 MiB − 1 bytes, possibly none) is the final
// chunk. Where the cuts fall depends on nothing but the input, so the bytes are the same
// whatever the number of threads or their timing. Each chunk is compressed alone by
// libdeflate (LibDeflate.cs): libdeflate has no preset dictionary, so unlike pigz a chunk is
// not primed with the previous chunk's last 32 KiB; on the bench/packing folders that costs
// 0.2 % of output at 1 MiB chunks (19,199,108 against 19,158,368 bytes whole), and the
// result stays 1.5 % smaller than gzip -6.
//
// libdeflate ends every buffer with a last block (BFINAL = 1) padded to a byte. To let the
// next chunk follow, a chunk that is not final is walked with zlib's inflate(Z_BLOCK) to find
// the header of its last block and its last bit (Zlib.cs); the BFINAL bit is cleared, and an
// empty stored block (the Z_SYNC_FLUSH marker, BFINAL 0, BTYPE 00, padding, LEN 0000 NLEN
// FFFF) brings the stream to a byte boundary: 4 or 5 bytes per MiB. The final chunk keeps its
// BFINAL. Walking costs about a sixth of the compression time; it also proves every chunk
// decodes before it is uploaded.
using System.Runtime.InteropServices;

namespace Nixery.Builder.Packing;

/// <summary>A chunk's buffers, pinned so native code can be given their addresses. Input
/// holds the tar bytes; after compression it is scratch for the inflate walk.</summary>
internal sealed class Chunk
{
    public const int Size = 1024 * 1024;

    // libdeflate_deflate_compress_bound(1 MiB) is 1,049,635 for 1.14; checked at start-up
    // (ChunkCompressor) rather than trusted. Plus 5 for the stored-block marker.
    public const int OutputCapacity = 1_049_635 + 5;

    public byte[] Input { get; } = GC.AllocateUninitializedArray<byte>(Size, pinned: true);

    public byte[] Output { get; } = GC.AllocateUninitializedArray<byte>(OutputCapacity, pinned: true);

    public int InputLength { get; set; }

    public int OutputLength { get; set; }
}

/// <summary>One thread's compressor: a libdeflate compressor and a zlib inflate stream for the
/// walk. Not thread-safe; PackingPool hands each to one chunk at a time.</summary>
internal sealed class ChunkCompressor : IDisposable
{
    private static readonly byte[] EmptyStoredBlock = [0, 0, 0xff, 0xff]; // LEN 0, NLEN ~0

    private IntPtr _compressor;
    private IntPtr _inflate;

    public ChunkCompressor()
    {
        LibDeflate.KnownAnswer();
        _compressor = LibDeflate.AllocCompressor(LibDeflate.Level);
        if (_compressor == IntPtr.Zero)
        {
            throw new InvalidOperationException($"libdeflate_alloc_compressor({LibDeflate.Level}) failed");
        }

        if ((long)LibDeflate.DeflateCompressBound(_compressor, Chunk.Size) + EmptyStoredBlock.Length + 1 > Chunk.OutputCapacity)
        {
            Dispose();
            throw new InvalidOperationException("libdeflate's compress bound for 1 MiB exceeds the chunk output buffer");
        }

        _inflate = Marshal.AllocHGlobal(Zlib.Size);
        for (var i = 0; i < Zlib.Size; i++)
        {
            Marshal.WriteByte(_inflate, i, 0); // zalloc/zfree/opaque null: zlib's own allocator
        }

        var status = Zlib.InflateInit2(_inflate, Zlib.RawWindowBits, Zlib.Version(), Zlib.Size);
        if (status != Zlib.Ok)
        {
            Marshal.FreeHGlobal(_inflate);
            _inflate = IntPtr.Zero;
            Dispose();
            throw new InvalidOperationException($"zlib inflateInit2_ failed with status {status}");
        }
    }

    /// <summary>Compresses <paramref name="chunk"/>'s input into its output: a final chunk as
    /// libdeflate gives it, any other ending at a byte boundary without BFINAL.</summary>
    public void Compress(Chunk chunk, bool final)
    {
        ObjectDisposedException.ThrowIf(_compressor == IntPtr.Zero, this);
        var input = Marshal.UnsafeAddrOfPinnedArrayElement(chunk.Input, 0);
        var output = Marshal.UnsafeAddrOfPinnedArrayElement(chunk.Output, 0);
        var length = (int)LibDeflate.DeflateCompress(_compressor, input, (nuint)chunk.InputLength, output, (nuint)(Chunk.OutputCapacity - EmptyStoredBlock.Length - 1));
        if (length == 0)
        {
            throw new InvalidOperationException("libdeflate_deflate_compress ran out of output space within its own bound");
        }

        chunk.OutputLength = final ? length : Join(chunk, length);
    }

    public void Dispose()
    {
        if (_compressor != IntPtr.Zero)
        {
            LibDeflate.FreeCompressor(_compressor);
            _compressor = IntPtr.Zero;
        }

        if (_inflate != IntPtr.Zero)
        {
            _ = Zlib.InflateEnd(_inflate);
            Marshal.FreeHGlobal(_inflate);
            _inflate = IntPtr.Zero;
        }
    }

    // Clears the last block's BFINAL and appends an empty stored block; returns the new length.
    private int Join(Chunk chunk, int length)
    {
        var (lastHeaderBit, endBit) = LastBlock(chunk, length);
        var output = chunk.Output;
        output[lastHeaderBit >> 3] &= (byte)~(1 << (lastHeaderBit & 7));

        // Bits are filled from the least significant; the unused high bits of the last byte
        // are zero, and a stored block's header is three zero bits, then padding to the byte.
        var unused = (length * 8) - endBit;
        output[length - 1] &= (byte)((0x100 >> unused) - 1);
        if (unused < 3)
        {
            output[length++] = 0; // the header's remaining bits and the padding
        }

        EmptyStoredBlock.CopyTo(output, length);
        return length + EmptyStoredBlock.Length;
    }

    // Walks the blocks of the compressed chunk: (first bit of the last block's header, the bit
    // after its end-of-block code). Input is scratch for the decoded bytes (at most 1 MiB).
    private (int LastHeaderBit, int EndBit) LastBlock(Chunk chunk, int length)
    {
        var status = Zlib.InflateReset(_inflate);
        if (status != Zlib.Ok)
        {
            throw new InvalidOperationException($"zlib inflateReset failed with status {status}");
        }

        Marshal.WriteIntPtr(_inflate, Zlib.NextInOffset, Marshal.UnsafeAddrOfPinnedArrayElement(chunk.Output, 0));
        Marshal.WriteInt32(_inflate, Zlib.AvailInOffset, length);
        var scratch = Marshal.UnsafeAddrOfPinnedArrayElement(chunk.Input, 0);
        var header = 0; // a raw stream's first block header is its first bit
        while (true)
        {
            Marshal.WriteIntPtr(_inflate, Zlib.NextOutOffset, scratch);
            Marshal.WriteInt32(_inflate, Zlib.AvailOutOffset, Chunk.Size);
            status = Zlib.Inflate(_inflate, Zlib.Block);
            if (status != Zlib.Ok)
            {
                var message = Marshal.PtrToStringAnsi(Marshal.ReadIntPtr(_inflate, Zlib.MsgOffset));
                throw new InvalidOperationException($"zlib inflate of a compressed chunk stopped with status {status} before its last block: {message}");
            }

            var dataType = Marshal.ReadInt32(_inflate, Zlib.DataTypeOffset);
            if ((dataType & Zlib.AtBoundary) == 0)
            {
                continue; // the output filled up inside a block
            }

            var consumed = length - Marshal.ReadInt32(_inflate, Zlib.AvailInOffset);
            var boundary = (consumed * 8) - (dataType & Zlib.UnusedBitsMask);
            if ((dataType & Zlib.LastBlock) != 0)
            {
                return (header, boundary);
            }

            header = boundary;
        }
    }
}
