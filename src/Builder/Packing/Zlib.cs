// Deflate from the system zlib (libz.so.1, Debian's zlib1g), not from .NET.
//
// A layer's digest is its name: two workers that pack the same store paths must upload the
// same bytes, on any machine, or the layer cache and client caches stop matching. Since
// .NET 9, GZipStream/ZLibStream/DeflateStream are built on zlib-ng, which picks code paths
// by CPU features (and changes between .NET servicing releases), so its output for the same
// input and level is not guaranteed to be the same everywhere. Classic zlib has no runtime
// CPU dispatch and its deflate output has been stable across releases for fixed
// parameters, so we call it directly with parameters that never change: level 6,
// raw deflate with a 32 KiB window (windowBits -15), memLevel 8, default strategy.
//
// Plain DllImport with IntPtr arguments, and the z_stream kept in native memory (zlib keeps
// a pointer back to it, so it must not move), because LibraryImport needs
// AllowUnsafeBlocks, which this project does not set.
using System.Runtime.InteropServices;

namespace Nixery.Builder.Packing;

internal static class Zlib
{
    public const int NoFlush = 0;
    public const int Finish = 4;
    public const int Ok = 0;
    public const int StreamEnd = 1;
    public const int BufError = -5;

    public const int Level = 6;
    public const int Deflated = 8;
    public const int RawWindowBits = -15;
    public const int MemLevel = 8;
    public const int DefaultStrategy = 0;

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
    public static readonly int Size = Marshal.SizeOf<ZStream>();

    [DllImport(Library, EntryPoint = "zlibVersion")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern IntPtr Version();

    [DllImport(Library, EntryPoint = "deflateInit2_")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int DeflateInit2(IntPtr stream, int level, int method, int windowBits, int memLevel, int strategy, IntPtr version, int streamSize);

    [DllImport(Library, EntryPoint = "deflate")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int Deflate(IntPtr stream, int flush);

    [DllImport(Library, EntryPoint = "deflateEnd")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern int DeflateEnd(IntPtr stream);

    [DllImport(Library, EntryPoint = "crc32")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern CULong Crc32(CULong crc, IntPtr buffer, uint length);
}
