using System.Formats.Tar;
using Nixery.Builder.Images;
using Nixery.Builder.Packing;
using static Nixery.Builder.Tests.Packing.LayerPackerTests;

namespace Nixery.Builder.Tests.Packing;

public class SymlinkLayerTests
{
    private const string First = "zz9b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-first";
    private const string Second = "aa1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-second";

    // Two packages that overlap in every way: same file, file vs directory, directory vs
    // symlink, and directories to merge. "first" is listed first but sorts last, so the
    // test shows that list order, not name order, decides.
    private static (string First, string Second) BuildRoots(StoreTree tree)
    {
        tree.AddFile($"{First}/bin/tool", "first tool\n", StoreTree.Executable);
        tree.AddSymlink($"{First}/bin/sh", "tool");
        tree.AddFile($"{First}/lib", "a file called lib\n");
        tree.AddFile($"{First}/etc/a.conf", "a\n");
        tree.AddFile($"{First}/share/man/man1/tool.1", ".TH tool\n");

        tree.AddFile($"{Second}/bin/tool", "second tool\n", StoreTree.Executable);
        tree.AddFile($"{Second}/bin/other", "other\n", StoreTree.Executable);
        tree.AddFile($"{Second}/lib/libx.so", "ELF\n");
        tree.AddSymlink($"{Second}/etc", "/somewhere/else");
        tree.AddFile($"{Second}/share/man/man1/other.1", ".TH other\n");
        tree.AddDirectory($"{Second}/share/doc");
        return (tree.StorePath(First), tree.StorePath(Second));
    }

    private static async Task<(PackedLayer Layer, byte[] Bytes)> PackAsync(params string[] roots)
    {
        using var output = new MemoryStream();
        var layer = await LayerPacker.PackSymlinkLayerAsync(roots, output, CancellationToken.None);
        return (layer, output.ToArray());
    }

    [Fact]
    public async Task EntriesAreTheMergedTreeWithTheFirstRootWinningEveryConflict()
    {
        using var tree = StoreTree.CreateTemp();
        var (first, second) = BuildRoots(tree);

        var (_, bytes) = await PackAsync(first, second);
        var tar = await Tools.RunAsync("gzip", "-dc", await WriteAsync(tree, bytes));
        var entries = await ReadEntriesAsync(tar);

        const UnixFileMode Dir = StoreTree.Dir;
        const UnixFileMode Link = (UnixFileMode)0b111_111_111;
        Assert.Equal(
            [
                ("bin/", TarEntryType.Directory, Dir, (string?)null),
                ("bin/other", TarEntryType.SymbolicLink, Link, $"{second}/bin/other"),
                ("bin/sh", TarEntryType.SymbolicLink, Link, $"{first}/bin/sh"),
                ("bin/tool", TarEntryType.SymbolicLink, Link, $"{first}/bin/tool"),
                ("etc/", TarEntryType.Directory, Dir, null),
                ("etc/a.conf", TarEntryType.SymbolicLink, Link, $"{first}/etc/a.conf"),
                ("lib", TarEntryType.SymbolicLink, Link, $"{first}/lib"),
                ("share/", TarEntryType.Directory, Dir, null),
                ("share/doc/", TarEntryType.Directory, Dir, null),
                ("share/man/", TarEntryType.Directory, Dir, null),
                ("share/man/man1/", TarEntryType.Directory, Dir, null),
                ("share/man/man1/other.1", TarEntryType.SymbolicLink, Link, $"{second}/share/man/man1/other.1"),
                ("share/man/man1/tool.1", TarEntryType.SymbolicLink, Link, $"{first}/share/man/man1/tool.1"),
            ],
            entries.Select(e => (e.Name, e.Type, e.Mode, e.LinkName)));
        Assert.All(entries, e => Assert.Equal((DateTimeOffset.FromUnixTimeSeconds(1), 0, 0), (e.ModificationTime, e.Uid, e.Gid)));
    }

    [Fact]
    public async Task ExtractedByRealTarTheLinksResolveToTheStore()
    {
        using var tree = StoreTree.CreateTemp();
        var (first, second) = BuildRoots(tree);
        var (_, bytes) = await PackAsync(first, second);
        var target = Directory.CreateDirectory(Path.Combine(tree.Root, "extracted")).FullName;

        await Tools.RunAsync("tar", "-xzf", await WriteAsync(tree, bytes), "-C", target);

        Assert.Equal($"{first}/bin/tool", new FileInfo(Path.Combine(target, "bin", "tool")).LinkTarget);
        Assert.Equal("first tool\n", await File.ReadAllTextAsync(Path.Combine(target, "bin", "tool")));
        Assert.Equal("other\n", await File.ReadAllTextAsync(Path.Combine(target, "bin", "other")));
        Assert.Equal("first tool\n", await File.ReadAllTextAsync(Path.Combine(target, "bin", "sh")));
        Assert.Equal("a file called lib\n", await File.ReadAllTextAsync(Path.Combine(target, "lib")));
        Assert.Null(new DirectoryInfo(Path.Combine(target, "share", "man")).LinkTarget);
        Assert.True(Directory.Exists(Path.Combine(target, "share", "doc")));
    }

    [Fact]
    public async Task SwappingTheRootsSwapsTheWinners()
    {
        using var tree = StoreTree.CreateTemp();
        var (first, second) = BuildRoots(tree);

        var (_, bytes) = await PackAsync(second, first);
        var entries = await ReadEntriesAsync(await Tools.RunAsync("gzip", "-dc", await WriteAsync(tree, bytes)));

        Assert.Equal($"{second}/bin/tool", Assert.Single(entries, e => e.Name == "bin/tool").LinkName);
        Assert.Equal($"{second}/etc", Assert.Single(entries, e => e.Name == "etc").LinkName);
        Assert.Equal("lib/", Assert.Single(entries, e => e.Name.StartsWith("lib", StringComparison.Ordinal) && e.Type == TarEntryType.Directory).Name);
        Assert.DoesNotContain(entries, e => e.Name.StartsWith("etc/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SameRootsGiveTheSameBytes()
    {
        using var tree = StoreTree.CreateTemp();
        var (first, second) = BuildRoots(tree);

        var (a, aBytes) = await PackAsync(first, second);
        var (b, bBytes) = await PackAsync(first, second);

        Assert.Equal(a, b);
        Assert.Equal(aBytes, bBytes);
    }

    [Fact]
    public async Task TopLevelNixSupportFoldersAreLeftOutButDeeperOnesAreLinked()
    {
        using var tree = StoreTree.CreateTemp();
        tree.AddFile($"{First}/nix-support/depends", "/nix/store/x\n");
        tree.AddFile($"{First}/share/nix-support/kept", "kept\n");

        var (_, bytes) = await PackAsync(tree.StorePath(First));
        var entries = await ReadEntriesAsync(await Tools.RunAsync("gzip", "-dc", await WriteAsync(tree, bytes)));

        Assert.Equal(["share/", "share/nix-support/", "share/nix-support/kept"], entries.Select(e => e.Name));
    }

    [Fact]
    public async Task NoRootsGiveAnEmptyButValidLayer()
    {
        using var tree = StoreTree.CreateTemp();

        var (layer, bytes) = await PackAsync();
        var tar = await Tools.RunAsync("gzip", "-dc", await WriteAsync(tree, bytes));

        Assert.Empty(await ReadEntriesAsync(tar));
        Assert.Equal(bytes.Length, layer.Size);
    }

    [Fact]
    public async Task TheImageRootComesFirstWithItsModesContentsAndOwner()
    {
        using var tree = StoreTree.CreateTemp();
        tree.AddFile($"{First}/etc/passwd", "a package's passwd\n");
        tree.AddFile($"{First}/etc/a.conf", "a\n");

        using var output = new MemoryStream();
        await LayerPacker.PackSymlinkLayerAsync(SymlinkForest.Merge([tree.StorePath(First)], ImageRoot.NonRoot.Entries), output, CancellationToken.None);
        var entries = await ReadEntriesAsync(await Tools.RunAsync("gzip", "-dc", await WriteAsync(tree, output.ToArray())));

        const UnixFileMode Dir = StoreTree.Dir;
        const UnixFileMode File = (UnixFileMode)0b110_100_100;
        Assert.Equal(
            [
                ("etc/", TarEntryType.Directory, Dir, 0, (string?)null),
                ("etc/a.conf", TarEntryType.SymbolicLink, (UnixFileMode)0b111_111_111, 0, null),
                ("etc/group", TarEntryType.RegularFile, File, 0, "root:x:0:\nnogroup:x:65534:\nnonroot:x:65532:\n"),
                ("etc/nsswitch.conf", TarEntryType.RegularFile, File, 0, "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\nethers: files\nrpc: files\n"),
                ("etc/passwd", TarEntryType.RegularFile, File, 0, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/sh\n"),
                ("home/", TarEntryType.Directory, Dir, 0, null),
                ("home/nonroot/", TarEntryType.Directory, Dir, 65532, null),
                ("root/", TarEntryType.Directory, (UnixFileMode)0b111_000_000, 0, null),
                ("tmp/", TarEntryType.Directory, (UnixFileMode)0b1_111_111_111, 0, null),
            ],
            entries.Select(e => (e.Name, e.Type, e.Mode, e.Uid, e.Content)));
    }

    [Fact]
    public void RootImagesHaveNoNonRootUserAndRunAsRoot()
    {
        Assert.Null(ImageRoot.Root.User);
        Assert.Equal("/root", ImageRoot.Root.Home);
        Assert.DoesNotContain(ImageRoot.Root.Entries, e => e.Path.StartsWith("home", StringComparison.Ordinal));
        Assert.Equal("65532:65532", ImageRoot.NonRoot.User);
        Assert.Equal("/home/nonroot", ImageRoot.NonRoot.Home);
        Assert.NotEqual(ImageRoot.Root.Key, ImageRoot.NonRoot.Key);
    }

    [Fact]
    public void LinksThatDoNotResolveInTheImageAreReported()
    {
        using var tree = StoreTree.CreateTemp();
        const string Python = "cc1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-python3-minimal";
        const string Interpreter = "dd1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p-python3.11-minimal";
        tree.AddFile($"{Interpreter}/usr/bin/python3.11", "ELF\n", StoreTree.Executable);
        tree.AddFile($"{Interpreter}/etc/python.conf", "conf\n");
        tree.AddSymlink($"{Python}/usr/bin/python3", "python3.11");
        tree.AddSymlink($"{Python}/usr/bin/python3-fixed", tree.StorePath(Interpreter) + "/usr/bin/python3.11");
        tree.AddSymlink($"{Python}/usr/bin/through-the-root", "../../../../../../../../../../../../etc/python.conf");
        tree.AddSymlink($"{Python}/usr/bin/loop", "loop");
        var python = tree.StorePath(Python);
        var interpreter = tree.StorePath(Interpreter);
        var forest = SymlinkForest.Merge([python, interpreter]);

        Assert.Equal(
            [("usr/bin/loop", $"{python}/usr/bin/loop"), ("usr/bin/python3", $"{python}/usr/bin/python3")],
            forest.DanglingLinks(new HashSet<string>([python, interpreter])));
        Assert.Equal(
            [
                ("etc/python.conf", $"{interpreter}/etc/python.conf"),
                ("usr/bin/loop", $"{python}/usr/bin/loop"),
                ("usr/bin/python3", $"{python}/usr/bin/python3"),
                ("usr/bin/python3-fixed", $"{python}/usr/bin/python3-fixed"),
                ("usr/bin/python3.11", $"{interpreter}/usr/bin/python3.11"),
                ("usr/bin/through-the-root", $"{python}/usr/bin/through-the-root"),
            ],
            forest.DanglingLinks(new HashSet<string>([python])));
    }

    private static async Task<string> WriteAsync(StoreTree tree, byte[] bytes)
    {
        var file = Path.Combine(tree.Root, $"layer-{Guid.NewGuid():N}.tar.gz");
        await File.WriteAllBytesAsync(file, bytes);
        return file;
    }
}
