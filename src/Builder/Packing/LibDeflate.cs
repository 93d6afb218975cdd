// Deflate from libdeflate 1.14 (Debian 12's libdeflate0 1.14-1), not from zlib or .NET.
//
// A layer's digest is its name: two workers that pack the same store paths must upload the
// same bytes, on any machine, or the layer cache and client caches stop matching. So the
// deflate we use must give the same bytes on every CPU a deployment can mix, and it must
// be pinned, because every library's output changes between versions.
//
// Measured with bench/packing --candidates (one thread each, the 72 MB tar of its folders,
// this 2-core machine shared with other work, issue 14; times from two runs):
//
//   candidate                                      time vs gzip -6   size vs gzip -6   same bytes on every CPU?
//   classic zlib 1.2.13, level 6 (pigz -p 1)         0.88–0.99           0.997          yes: no CPU dispatch
//   libdeflate 1.14, level 6 (chosen)                0.28–0.38           0.983          yes (below)
//   libdeflate 1.14, level 5                         0.23–0.28           0.991          yes (below)
//   ISA-L 2.30 (igzip), level 3, its strongest       0.15–0.22           1.121          no (below)
//   zlib-ng (.NET 10's DeflateStream), level 6       0.35–0.45           1.015          not across versions (below)
//
// Level 6: 1.7 % smaller than gzip -6 at about three times its speed (level 7 saves 0.5 % more
// for 40–70 % more time); cut into 1 MiB chunks it loses 0.2 % (DeflateChunks.cs).
//
// Why the output is the same on every x86-64 feature level, from the 1.14 source:
// - compression has no run-time CPU dispatch: lib/deflate_compress.c includes no
//   cpu_features.h; its only SIMD (lib/x86/matchfinder_impl.h, and lib/arm/ with NEON) is
//   chosen at compile time (HAVE_AVX2_NATIVE, i.e. the package's -march, which Debian leaves
//   at the x86-64 baseline) for matchfinder_init/_rebase, which fill and saturating-add
//   constants into the hash tables: the same values whichever is compiled in. The match finder, the lazy
//   parser, block splitting and Huffman code building are integer C.
// - the run-time dispatch libdeflate does have (x86/cpu_features.c) serves crc32 and adler32
//   (PCLMUL/AVX) and decompression (BMI2): checksums are one mathematical value however
//   computed, and we do not decompress with it.
// - checked, not only read: the 1.14 source built with -march=x86-64, x86-64-v3 (AVX2) and
//   native gives byte-identical output to Debian's build at levels 1, 4, 6, 9 and 12.
// Why the version is pinned: NEWS.md lists output changes (1.16: levels 10–12; 1.19: Huffman
// codes always have two codewords, short inputs compress better); 1.23 differs from 1.14
// at level 6 on a two-sentence input. So Debian 12's 1.14 is pinned (scripts/setup, the worker
// image), its name and version are part of the layer format (ImageKeys.LayerFormat, in every
// image and layer key), and KnownAnswer() refuses a library whose output is not 1.14's.
// Why not the others:
// - ISA-L dispatches at run time (igzip/igzip_multibinary.asm, mbin_dispatch_init5) between
//   bodies that do different work: level 3 runs icf_body_hash1_fillgreedy_lazy up to AVX and
//   icf_body_lazyhash1_fillgreedy_greedy on AVX2, and hashing uses the CRC32 instruction with
//   SSE4.2 (igzip/huffman.h compute_hash, isal_deflate_hash_crc_01) and a multiply without:
//   different matches, different bytes, on different CPUs. Its best level is 12 % larger.
// - zlib-ng (which .NET's GZipStream has used since .NET 9, updated with servicing) hashed
//   with CRC32C on SSE4.2 CPUs and a multiply elsewhere until 2.2.0 (insert_string_sse42,
//   removed by commit 0f15919e, 2024): its output has depended on the CPU and changes with
//   its version; it is not packaged for Debian 12, so it could not be pinned apart from .NET.
// - classic zlib is stable but 2.5× slower.
//
// libdeflate compresses whole buffers only (README "API": no streaming) and has no preset
// dictionary (libdeflate issue #239, open); its author's advice for parallelism is to split
// the data into chunks, one compressor per thread (issue #40). DeflateChunks.cs does that
// and joins the chunks into one deflate stream.
//
// Plain DllImport with IntPtr arguments, because LibraryImport needs AllowUnsafeBlocks, which
// this project does not set.
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Nixery.Builder.Packing;

internal static class LibDeflate
{
    /// <summary>The pinned library (Debian 12: libdeflate0 1.14-1) and the level we use.</summary>
    public const string Version = "1.14";
    public const int Level = 6;

    private const string Library = "libdeflate.so.0";

    [DllImport(Library, EntryPoint = "libdeflate_alloc_compressor")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern IntPtr AllocCompressor(int level);

    [DllImport(Library, EntryPoint = "libdeflate_free_compressor")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern void FreeCompressor(IntPtr compressor);

    /// <summary>Raw deflate of the whole input; returns the output length, 0 if it did not fit.</summary>
    [DllImport(Library, EntryPoint = "libdeflate_deflate_compress")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern nuint DeflateCompress(IntPtr compressor, IntPtr input, nuint inputLength, IntPtr output, nuint outputCapacity);

    [DllImport(Library, EntryPoint = "libdeflate_deflate_compress_bound")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern nuint DeflateCompressBound(IntPtr compressor, nuint inputLength);

    [DllImport(Library, EntryPoint = "libdeflate_crc32")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static extern uint Crc32(uint crc, IntPtr buffer, nuint length);

    // The fox sentence twice is an input on which 1.19+ (Huffman codes of two codewords at least)
    // gives other bytes than 1.14 at level 6; the pattern exercises the lazy parser and block
    // splitting over 300 KB. The expected values are what Debian's libdeflate0 1.14-1 gives.
    private const string ProbeSentence = "The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.";
    private const string ExpectedSentence = "0bc94855282ccd4cce56482aca2fcf5348cbaf50c82acd2d2856c82f4b2d5228c94855c849acaa5448c94fd7530821413100";
    private const string ExpectedPattern = "4a570ff65b8385c6154d2c9ebb13dde28fd1f26abc300f615dd8e020c1b8a112";

    private static readonly Lazy<string?> Mismatch = new(Probe);

    /// <summary>Throws unless the loaded libdeflate compresses known inputs to 1.14's bytes.
    /// Checked once per process, before the first layer is packed.</summary>
    public static void KnownAnswer()
    {
        if (Mismatch.Value is { } error)
        {
            throw new InvalidOperationException(error);
        }
    }

    /// <summary>The known-answer inputs' outputs as hex (the sentence) and SHA-256 hex (the pattern).</summary>
    internal static (string Sentence, string Pattern) ProbeOutputs()
    {
        var compressor = AllocCompressor(Level);
        if (compressor == IntPtr.Zero)
        {
            throw new InvalidOperationException($"{Library}: libdeflate_alloc_compressor({Level}) failed");
        }

        try
        {
            var sentence = Compress(compressor, Encoding.ASCII.GetBytes(ProbeSentence));
            var pattern = Compress(compressor, PatternBytes(300_000));
            return (Convert.ToHexStringLower(sentence), Convert.ToHexStringLower(SHA256.HashData(pattern)));
        }
        finally
        {
            FreeCompressor(compressor);
        }
    }

    private static string? Probe()
    {
        try
        {
            var (sentence, pattern) = ProbeOutputs();
            return sentence == ExpectedSentence && pattern == ExpectedPattern
                ? null
                : $"{Library} does not compress as libdeflate {Version} does (known-answer test failed); layers must be byte-identical on every worker: install Debian 12's libdeflate0 1.14-1";
        }
        catch (DllNotFoundException e)
        {
            return $"{Library} could not be loaded ({e.Message}); install Debian 12's libdeflate0 1.14-1";
        }
    }

    private static byte[] Compress(IntPtr compressor, byte[] input)
    {
        var pinnedIn = GC.AllocateUninitializedArray<byte>(input.Length + 1, pinned: true);
        input.CopyTo(pinnedIn, 0);
        var capacity = (int)DeflateCompressBound(compressor, (nuint)input.Length);
        var pinnedOut = GC.AllocateUninitializedArray<byte>(capacity, pinned: true);
        var length = DeflateCompress(
            compressor,
            Marshal.UnsafeAddrOfPinnedArrayElement(pinnedIn, 0),
            (nuint)input.Length,
            Marshal.UnsafeAddrOfPinnedArrayElement(pinnedOut, 0),
            (nuint)capacity);
        return pinnedOut[..(int)length];
    }

    /// <summary>Fixed, half-compressible bytes (an xorshift; no Random, whose sequence is not a contract).</summary>
    private static byte[] PatternBytes(int length)
    {
        var bytes = new byte[length];
        uint x = 2463534242;
        for (var i = 0; i < length; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            bytes[i] = (byte)(i % 3 == 0 ? 'a' + (x % 4) : i % 7 == 0 ? x : (uint)('a' + (i / 64 % 26)));
        }

        return bytes;
    }
}
