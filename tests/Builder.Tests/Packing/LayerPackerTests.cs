using System.Formats.Tar;
using System.Security.Cryptography;
using Nixery.Builder.Packing;
using Nixery.Core.Manifests;

namespace Nixery.Builder.Tests.Packing;

public class LayerPackerTests
{
    private static async Task<(PackedLayer Layer, byte[] Bytes)> PackAsync(params string[] storePaths)
    {
        using var output = new MemoryStream();
        var layer = await LayerPacker.PackStorePathsAsync(storePaths, output, CancellationToken.None);
        return (layer, output.ToArray());
    }

    private static async Task<byte[]> GunzipAsync(byte[] gzip)
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, gzip);
            return await Tools.RunAsync("gzip", "-dc", file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Name prefix of the temp tree inside the tar: its path without the leading "/".</summary>
    private static string Prefix(StoreTree tree) => tree.Root.TrimStart('/') + "/";

    [Fact]
    public async Task PackingTheSameTreeTwiceGivesIdenticalBytes()
    {
        using var tree = StoreTree.CreateTemp();
        var hello = tree.AddHello("0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-hello-2.12");

        var (first, firstBytes) = await PackAsync(hello);
        File.SetLastWriteTimeUtc(Path.Combine(hello, "bin", "hello"), DateTime.UtcNow);
        File.SetLastAccessTimeUtc(Path.Combine(hello, "data.bin"), DateTime.UtcNow);
        var (second, secondBytes) = await PackAsync(hello);

        Assert.Equal(first, second);
        Assert.Equal(firstBytes, secondBytes);
    }

    [Fact]
    public async Task DigestSizeAndDiffIdDescribeTheBytesAsRealGzipSeesThem()
    {
        using var tree = StoreTree.CreateTemp();
        var hello = tree.AddHello("0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-hello-2.12");

        var (layer, bytes) = await PackAsync(hello);
        var tar = await GunzipAsync(bytes);

        Assert.Equal(Digest.FromSha256Hash(SHA256.HashData(bytes)), layer.Digest);
        Assert.Equal(bytes.Length, layer.Size);
        Assert.Equal(Digest.FromSha256Hash(SHA256.HashData(tar)), layer.DiffId);
        Assert.Equal([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff], bytes[..10]);
    }

    [Fact]
    public async Task GnuTarListsEveryEntryInOrderWithMtimeOneAndOwnerRoot()
    {
        using var tree = StoreTree.CreateTemp();
        var hello = tree.AddHello("0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-hello-2.12");
        tree.AddFile("zz1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-world/etc/world.conf", "world\n");
        var (_, bytes) = await PackAsync(Path.Combine(tree.Store, "zz1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-world"), hello);
        var file = Path.Combine(tree.Root, "layer.tar.gz");
        await File.WriteAllBytesAsync(file, bytes);

        var listing = await Tools.RunTextAsync("tar", "--full-time", "-tvzf", file);

        var lines = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .ToList();
        Assert.All(lines, fields => Assert.Equal("0/0", fields[1]));
        Assert.All(lines, fields => Assert.Equal("1970-01-01 00:00:01", $"{fields[3]} {fields[4]}"));

        var rootParents = new List<string>();
        var parts = Prefix(tree).TrimEnd('/').Split('/');
        for (var i = 1; i <= parts.Length; i++)
        {
            rootParents.Add(string.Join('/', parts[..i]) + "/");
        }

        var store = Prefix(tree) + "nix/store/";
        var h = store + "0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-hello-2.12/";
        var w = store + "zz1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-world/";
        var d = StoreTree.LongSegment('d');
        string[] expected =
        [
            .. rootParents.Select(p => "drwxr-xr-x " + p),
            "drwxr-xr-x " + Prefix(tree) + "nix/",
            "drwxr-xr-x " + store,
            "drwxr-xr-x " + h,
            "drwxr-xr-x " + h + "bin/",
            "-r-xr-xr-x " + h + "bin/hello",
            "lrwxrwxrwx " + h + "bin/hi -> hello",
            "-r--r--r-- " + h + "data.bin",
            "drwxr-xr-x " + h + "lib/",
            "drwxr-xr-x " + h + $"lib/{d}/",
            "-r--r--r-- " + h + $"lib/{d}/{StoreTree.LongSegment('f')}.txt",
            "drwxr-xr-x " + h + "share/",
            "drwxr-xr-x " + h + "share/doc/",
            "drwxr-xr-x " + h + "share/doc/hello/",
            "-r--r--r-- " + h + "share/doc/hello/README",
            "drwxr-xr-x " + h + "share/empty/",
            "drwxr-xr-x " + w,
            "drwxr-xr-x " + w + "etc/",
            "-r--r--r-- " + w + "etc/world.conf",
        ];
        Assert.Equal(expected, lines.Select(fields => $"{fields[0]} {fields[5]}"));
    }

    [Fact]
    public async Task StorePathsBecomeNixStoreEntriesWithTheirParentsOnce()
    {
        using var tree = StoreTree.CreateTemp();
        var hello = tree.AddHello("0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-hello-2.12");
        var other = tree.AddFile("1a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-script.sh", "echo\n", StoreTree.Executable);

        var (_, bytes) = await PackAsync(other, hello, hello);
        var entries = await ReadEntriesAsync(await GunzipAsync(bytes));

        var store = Prefix(tree) + "nix/store/";
        Assert.Single(entries, e => e.Name == store);
        Assert.Single(entries, e => e.Name == store + "0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-hello-2.12/");
        var script = Assert.Single(entries, e => e.Name == store + "1a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-script.sh");
        Assert.Equal(TarEntryType.RegularFile, script.Type);
        Assert.Equal(StoreTree.Executable, script.Mode);
        var names = entries.Select(e => e.Name).ToList();
        Assert.Equal(names.Distinct(), names);
    }

    [Fact]
    public async Task HardLinksAreOrdinaryFilesAndFifosAreLeftOut()
    {
        using var tree = StoreTree.CreateTemp();
        var package = tree.StorePath("2a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-odd");
        var original = tree.AddFile("2a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-odd/a", "same bytes\n");
        await Tools.RunAsync("ln", original, Path.Combine(package, "b"));
        await Tools.RunAsync("mkfifo", Path.Combine(package, "pipe"));

        var (_, bytes) = await PackAsync(package);
        var entries = await ReadEntriesAsync(await GunzipAsync(bytes));

        var prefix = Prefix(tree) + "nix/store/2a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-odd/";
        var files = entries.Where(e => e.Name.StartsWith(prefix, StringComparison.Ordinal) && e.Name != prefix).ToList();
        Assert.Equal([(prefix + "a", TarEntryType.RegularFile, "same bytes\n"), (prefix + "b", TarEntryType.RegularFile, "same bytes\n")],
            files.Select(e => (e.Name, e.Type, e.Content)));
    }

    [Fact]
    public async Task HeadersCarryNoTimesOrNamesThatVary()
    {
        using var tree = StoreTree.CreateTemp();
        var hello = tree.AddHello("0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-hello-2.12");

        var (_, bytes) = await PackAsync(hello);
        var entries = await ReadEntriesAsync(await GunzipAsync(bytes));

        Assert.All(entries, e =>
        {
            Assert.Equal(TarEntryFormat.Gnu, e.Format);
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1), e.ModificationTime);
            Assert.Equal((0, 0, "", ""), (e.Uid, e.Gid, e.UserName, e.GroupName));
            Assert.Equal(default, e.AccessTime);
            Assert.Equal(default, e.ChangeTime);
        });
    }

    // Pinned digest of a fixed tree at a fixed place. Any change to the tar layout, the
    // header format or the deflate parameters (or a libdeflate whose output differs) shows up
    // here as a new digest — which would also mean every cached layer gets a new name, so it
    // comes with a new ImageKeys.LayerFormat.
    [Fact]
    public async Task FixedTreeAlwaysPacksToTheSameDigest()
    {
        using var tree = StoreTree.CreateAt("/tmp/nixery-layer-packer-fixture");
        var hello = tree.AddHello("0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-hello-2.12");
        var world = Path.GetDirectoryName(Path.GetDirectoryName(tree.AddFile("zz1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-world/etc/world.conf", "world\n"))!)!;

        var (layer, _) = await PackAsync(hello, world);

        Assert.Equal(
            new PackedLayer(
                new Digest("sha256", PinnedDigest),
                new Digest("sha256", PinnedDiffId),
                PinnedSize),
            layer);
    }

    private const string PinnedDigest = "be663b386a90a2ef75d6d25c1387eed91f326f6b4a21a5fba50e1077b6653a00";
    private const string PinnedDiffId = "fb0ab1c49c729afdf6c3f767429fc6f988460c28881baf6359136972e2554852";
    private const long PinnedSize = 261410;

    internal sealed record Entry(string Name, TarEntryType Type, UnixFileMode Mode, string? LinkName, string? Content,
        DateTimeOffset ModificationTime, int Uid, int Gid, string UserName, string GroupName, TarEntryFormat Format,
        DateTimeOffset AccessTime, DateTimeOffset ChangeTime);

    internal static async Task<List<Entry>> ReadEntriesAsync(byte[] tar)
    {
        var entries = new List<Entry>();
        using var stream = new MemoryStream(tar);
        await using var reader = new TarReader(stream);
        while (await reader.GetNextEntryAsync() is { } entry)
        {
            string? content = null;
            if (entry.DataStream is { } data)
            {
                using var text = new StreamReader(data);
                content = await text.ReadToEndAsync();
            }

            var gnu = entry as GnuTarEntry;
            var posix = entry as PosixTarEntry;
            entries.Add(new Entry(entry.Name, entry.EntryType, entry.Mode, entry.EntryType == TarEntryType.SymbolicLink ? entry.LinkName : null,
                content, entry.ModificationTime, entry.Uid, entry.Gid, posix?.UserName ?? "?", posix?.GroupName ?? "?", entry.Format,
                gnu?.AccessTime ?? default, gnu?.ChangeTime ?? default));
        }

        return entries;
    }
}
