// Layers larger than one deflate chunk: compressed side by side, joined into one gzip
// member that real tools accept, and the same bytes whatever the concurrency.
using System.IO.Compression;
using System.Security.Cryptography;
using Nixery.Builder.Packing;
using Nixery.Core.Manifests;
using Nixery.Core.Names;

namespace Nixery.Builder.Tests.Packing;

public class ParallelDeflateTests
{
    [Fact]
    public void TheLoadedLibdeflateCompressesAsThePinnedVersion()
    {
        var (sentence, pattern) = LibDeflate.ProbeOutputs();

        Assert.Equal(("0bc94855282ccd4cce56482aca2fcf5348cbaf50c82acd2d2856c82f4b2d5228c94855c849acaa5448c94fd7530821413100", PinnedPattern), (sentence, pattern));
        LibDeflate.KnownAnswer();
    }

    [Fact]
    public void TheLayerFormatNamesTheLibraryVersionLevelAndChunkSize()
    {
        var packing = $"gnu-tar/libdeflate-{LibDeflate.Version}/level-{LibDeflate.Level}/chunks-{Chunk.Size / 1024 / 1024}MiB";

        Assert.Equal(ImageKeys.LayerFormat, packing);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(Chunk.Size - 1)]
    [InlineData(Chunk.Size)]
    [InlineData(Chunk.Size + 1)]
    [InlineData((3 * Chunk.Size) + 12345)]
    public async Task ChunkedStreamsOfAnyLengthAreOneGzipMemberWithTheRightCrc(int length)
    {
        var input = MixedBytes(length, seed: length);

        using var pool = new PackingPool(3);
        var gzip = await CompressAsync(input, pool);

        Assert.Equal(input, Gunzip(gzip));
        await AssertOneValidMemberAsync(gzip, input.Length);
    }

    [Fact]
    public async Task BytesDoNotDependOnConcurrency()
    {
        var input = MixedBytes((5 * Chunk.Size) + 777, seed: 7);

        using var pool1 = new PackingPool(1);
        using var pool2 = new PackingPool(2);
        using var pool8 = new PackingPool(8);
        var one = await CompressAsync(input, pool1);
        var two = await CompressAsync(input, pool2);
        var eight = await CompressAsync(input, pool8);

        Assert.Equal(one, two);
        Assert.Equal(one, eight);
    }

    [Fact]
    public async Task ALargeLayerPacksToTheSameDigestWithOneThreadOrMany()
    {
        using var tree = StoreTree.CreateTemp();
        var big = tree.StorePath("3a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-big");
        tree.AddFile("3a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-big/random.bin", MixedBytes(2 * Chunk.Size, seed: 1));
        tree.AddFile("3a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-big/text.txt", MixedBytes(Chunk.Size + 99, seed: 2));
        var hello = tree.AddHello("0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-hello-2.12");

        using var pool1 = new PackingPool(1);
        using var pool4 = new PackingPool(4);
        var (serial, serialBytes) = await PackAsync([big, hello], pool1);
        var (parallel, parallelBytes) = await PackAsync([big, hello], pool4);

        Assert.Equal(serial, parallel);
        Assert.Equal(serialBytes, parallelBytes);
        Assert.Equal(Digest.FromSha256Hash(SHA256.HashData(serialBytes)), serial.Digest);
        var file = Path.Combine(tree.Root, "layer.tar.gz");
        await File.WriteAllBytesAsync(file, serialBytes);
        await Tools.RunAsync("gzip", "-t", file);
        await Tools.RunAsync("pigz", "-t", file);
        var listing = await Tools.RunTextAsync("tar", "-tzf", file);
        Assert.Contains(big.TrimStart('/') + "/random.bin", listing.Split('\n'));
        var extracted = await Tools.RunAsync("tar", "-xzOf", file, big.TrimStart('/') + "/text.txt");
        Assert.Equal(MixedBytes(Chunk.Size + 99, seed: 2), extracted);
    }

    [Fact]
    public async Task LayersPackedAtOnceOnOnePoolAreEachWhatTheyAreAlone()
    {
        var inputs = Enumerable.Range(0, 6).Select(i => MixedBytes((i * Chunk.Size / 2) + i, seed: 10 + i)).ToList();
        using var single = new PackingPool(1);
        var alone = new List<byte[]>();
        foreach (var input in inputs)
        {
            alone.Add(await CompressAsync(input, single));
        }

        using var shared = new PackingPool(2);
        var together = await Task.WhenAll(inputs.Select(input => Task.Run(() => CompressAsync(input, shared))));

        Assert.Equal(alone, together);
    }

    private static async Task<(PackedLayer Layer, byte[] Bytes)> PackAsync(string[] paths, PackingPool pool)
    {
        using var output = new MemoryStream();
        var layer = await LayerPacker.PackStorePathsAsync(paths, output, CancellationToken.None, pool);
        return (layer, output.ToArray());
    }

    private static async Task<byte[]> CompressAsync(byte[] input, PackingPool pool)
    {
        using var output = new MemoryStream();
        var stream = new LayerStream(output, pool, CancellationToken.None);
        await using (stream)
        {
            // Uneven writes: chunk boundaries must follow input offsets, not write sizes.
            var offset = 0;
            var step = 1;
            while (offset < input.Length)
            {
                var count = Math.Min(step, input.Length - offset);
                await stream.WriteAsync(input.AsMemory(offset, count));
                offset += count;
                step = (step * 7 % 300_007) + 1;
            }

            var layer = await stream.FinishAsync();
            Assert.Equal(output.Length, layer.Size);
            Assert.Equal(Digest.FromSha256Hash(SHA256.HashData(input)), layer.DiffId);
        }

        return output.ToArray();
    }

    private static byte[] Gunzip(byte[] gzip)
    {
        using var source = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        using var result = new MemoryStream();
        source.CopyTo(result);
        return result.ToArray();
    }

    // gzip -t checks the CRC-32 and ISIZE; python's zlib proves there is one member and
    // nothing after it (.NET and gzip both read concatenated members silently).
    private static async Task AssertOneValidMemberAsync(byte[] gzip, int length)
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, gzip);
            await Tools.RunAsync("gzip", "-t", file);
            var verdict = await Tools.RunTextAsync("python3", "-c",
                "import sys, zlib; data = open(sys.argv[1], 'rb').read(); d = zlib.decompressobj(31); out = d.decompress(data); "
                + "print(d.eof, len(d.unused_data), len(out))", file);
            Assert.Equal($"True 0 {length}", verdict.Trim());
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Runs of text, zeros and noise, so chunks end in every kind of deflate block
    /// (stored, fixed, dynamic) and at every bit offset.</summary>
    internal static byte[] MixedBytes(int length, int seed)
    {
        var bytes = new byte[length];
        var x = (uint)(seed * 2654435761u) | 1;
        var i = 0;
        while (i < length)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            var run = Math.Min(length - i, (int)(x % 70_000) + 1);
            var kind = x % 3;
            for (var j = 0; j < run; j++, i++)
            {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                bytes[i] = kind switch
                {
                    0 => (byte)"the quick brown fox jumps over the lazy dog "[(i + (int)(x % 3)) % 44],
                    1 => 0,
                    _ => (byte)x,
                };
            }
        }

        return bytes;
    }

    private const string PinnedPattern = "4a570ff65b8385c6154d2c9ebb13dde28fd1f26abc300f615dd8e020c1b8a112";
}
