// Inflate from the system zlib (libz.so.1, Debian's zlib1g), used for one thing: finding
// where the blocks of a deflate stream begin and end, so that independently compressed
// chunks can be joined into one stream (DeflateChunks.cs). libdeflate reports neither its
// block boundaries nor its last bit; zlib's inflate() with Z_BLOCK stops at every block
// boundary and reports the unused bits of the last byte and whether the block was the last
// (zlib.h, inflate(); the technique of zlib's examples/gzjoin.c). Inflate output is the one
// mathematically defined decoding, so which zlib this is does not matter for the bytes.
//
// Plain DllImport with IntPtr arguments, and the z_stream kept in native memory (zlib keeps
// a pointer back to it, so it must not move), because LibraryImport needs
// AllowUnsafeBlocks, which this project does not set.
using System.Runtime.InteropServices;

namespace Nixery.Builder.Packing;

internal static class Zlib
{
    public const int Block = 5; // Z_BLOCK
    public const int Ok = 0;
    public const int StreamEnd = 1;
    public const int RawWindowBits = -15;

    /// <summary>data_type bits after inflate(Z_BLOCK): at a block boundary (128), the block
    /// just decoded was the last (64), and the unused bits of the last byte read (low 3).</summary>
    public const int AtBoundary = 128;
    public const int LastBlock = 64;
    public const int UnusedBitsMask = 7;

    private const string Library = "libz.so.1";

    // zlib.h's z_stream; uLong is C "unsigned long", hence CULong.
    [StructLayout(LayoutKind.Sequential)]
    public struct ZStream
    {
        public IntPtr NextIn;
        public uint AvailIn;
        public CULong TotalIn;
        public IntPtr NextOut;
        public uint AvailOut;
        public CULong TotalOut;
        public IntPtr Msg;
        public IntPtr State;
        public IntPtr ZAlloc;
        public IntPtr ZFree;
        public IntPtr Opaque;
        public int DataType;
        public CULong Adler;
        public CULong Reserved;
    }

    public static readonly int NextInOffset = (int)Marshal.OffsetOf<ZStream>(nameof(ZStream.NextIn));
    public static readonly int AvailInOffset = (int)Marshal.OffsetOf<ZStream>(nameof(ZStream.AvailIn));
    public static readonly int NextOutOffset = (int)Marshal.OffsetOf<ZStream>(nameof(ZStream.NextOut));
    public static readonly int AvailOutOffset = (int)Marshal.OffsetOf<ZStream>(nameof(ZStream.AvailOut));
    public static readonly int MsgOffset = (int)Marshal.OffsetOf<ZStream>(nameof(ZStream.Msg));
    public static readonly int DataTypeOffset = (int)Marshal.OffsetOf<ZStream>(nameof(ZStream.DataType));
    public static readonly int Size = Marshal.SizeOf<ZStream>();

    [DllImport(Library, EntryPoint = "zlibVersion")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern IntPtr Version();

    [DllImport(Library, EntryPoint = "inflateInit2_")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int InflateInit2(IntPtr stream, int windowBits, IntPtr version, int streamSize);

    [DllImport(Library, EntryPoint = "inflate")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Inflate(IntPtr stream, int flush);

    [DllImport(Library, EntryPoint = "inflateReset")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int InflateReset(IntPtr stream);

    [DllImport(Library, EntryPoint = "inflateEnd")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int InflateEnd(IntPtr stream);
}
