// Turns store paths into layer blobs whose bytes depend only on the files: the same paths
// give the same digest on every machine and every run, so two workers that race to build
// a layer upload one blob, and the layer cache can trust a digest it has seen before.
//
// What makes the tar deterministic:
// - one format for every entry: GNU (long names as ././@LongLink records, no PAX records
//   with times in them), chosen here and nowhere else;
// - a depth-first walk with the entries of each directory sorted by name (ordinal) — what
//   `tar --sort=name` gives — and the store paths themselves in ordinal order;
// - names relative to "/" ("nix/store/…-bash/bin/bash"), directories ending in "/", and
//   their parents ("nix/", "nix/store/") written once per layer, before their contents;
// - mtime 1 (1970-01-01 00:00:01, what the Nix store sets), no atime or ctime, uid and gid
//   0 with empty user and group names, the permission bits of the file (the store keeps
//   only 0444/0555), symlinks as symlinks;
// - hard links written as ordinary files (each name carries its own copy), and FIFOs,
//   sockets and device files left out — the store cannot hold them anyway.
// The gzip side is in LayerStream.cs (chunks, hashing, framing), DeflateChunks.cs (joining
// independently compressed chunks) and LibDeflate.cs (which deflate, and why).
using System.Formats.Tar;

namespace Nixery.Builder.Packing;

public static class LayerPacker
{
    /// <summary>The mtime of every entry: the Unix epoch plus one second, as in the Nix store.</summary>
    public static readonly DateTimeOffset EntryTime = DateTimeOffset.FromUnixTimeSeconds(1);

    private const TarEntryFormat Format = TarEntryFormat.Gnu;
    private const UnixFileMode DirectoryMode = (UnixFileMode)0b111_101_101; // 0755
    private const UnixFileMode LinkMode = (UnixFileMode)0b111_111_111; // 0777, as lstat reports

    /// <summary>
    /// Writes one gzipped tar of <paramref name="storePaths"/> (each with everything under it)
    /// to <paramref name="output"/>, hashing and counting in the same pass, compressing on
    /// <paramref name="pool"/>'s threads (the machine-wide default when null). The bytes do not
    /// depend on the pool.
    /// </summary>
    public static async Task<PackedLayer> PackStorePathsAsync(IReadOnlyList<string> storePaths, Stream output, CancellationToken ct, PackingPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(storePaths);
        ArgumentNullException.ThrowIfNull(output);

        // Ordinal order; a path inside another one already listed is already covered.
        var roots = new List<string>();
        foreach (var path in storePaths.Select(Normalise).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (roots.Count == 0 || !path.StartsWith(roots[^1] + "/", StringComparison.Ordinal))
            {
                roots.Add(path);
            }
        }

        var layer = new LayerStream(output, pool ?? PackingPool.Default, ct);
        await using var _ = layer.ConfigureAwait(false);
        var tar = new TarWriter(layer, Format, leaveOpen: true);
        await using (tar.ConfigureAwait(false))
        {
            var parents = new HashSet<string>(StringComparer.Ordinal);
            foreach (var root in roots)
            {
                var name = root.TrimStart('/');
                var slash = name.IndexOf('/', StringComparison.Ordinal);
                while (slash > 0)
                {
                    var parent = name[..(slash + 1)];
                    if (parents.Add(parent))
                    {
                        await tar.WriteEntryAsync(Entry(TarEntryType.Directory, parent, DirectoryMode), ct).ConfigureAwait(false);
                    }

                    slash = name.IndexOf('/', slash + 1);
                }

                FileSystemInfo info = Directory.Exists(root) ? new DirectoryInfo(root) : new FileInfo(root);
                if (!info.Exists && info.LinkTarget is null)
                {
                    throw new FileNotFoundException($"store path {root} does not exist", root);
                }

                await WriteTreeAsync(tar, info, name, ct).ConfigureAwait(false);
            }
        }

        return await layer.FinishAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the symlink layer: the union of the trees under <paramref name="linkRoots"/>
    /// mapped onto "/", each file or symlink becoming a symlink to its store location
    /// ("bin/bash" → "/nix/store/…-bash/bin/bash") and each directory a real directory (0755).
    /// Where roots disagree the earlier root wins, whatever the kinds involved. A root's
    /// top-level "nix-support" folder is build metadata (Nix's convention, as in buildEnv),
    /// not image content, and is left out.
    /// </summary>
    public static async Task<PackedLayer> PackSymlinkLayerAsync(IReadOnlyList<string> linkRoots, Stream output, CancellationToken ct, PackingPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(linkRoots);
        ArgumentNullException.ThrowIfNull(output);

        var top = new LinkNode(null);
        foreach (var root in linkRoots)
        {
            var directory = new DirectoryInfo(Normalise(root));
            if (directory.Exists && directory.LinkTarget is null)
            {
                MergeInto(top, directory, skip: NixSupport);
            }
        }

        var layer = new LayerStream(output, pool ?? PackingPool.Default, ct);
        await using var _ = layer.ConfigureAwait(false);
        var tar = new TarWriter(layer, Format, leaveOpen: true);
        await using (tar.ConfigureAwait(false))
        {
            await WriteLinksAsync(tar, top, string.Empty, ct).ConfigureAwait(false);
        }

        return await layer.FinishAsync().ConfigureAwait(false);
    }

    private static string Normalise(string path)
    {
        var full = Path.GetFullPath(path);
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }

    private static IEnumerable<FileSystemInfo> SortedChildren(DirectoryInfo directory) =>
        directory.EnumerateFileSystemInfos().OrderBy(child => child.Name, StringComparer.Ordinal);

    private static async Task WriteTreeAsync(TarWriter tar, FileSystemInfo info, string name, CancellationToken ct)
    {
        switch (FileKinds.Of(info))
        {
            case FileKind.Directory:
                var directory = (DirectoryInfo)info;
                await tar.WriteEntryAsync(Entry(TarEntryType.Directory, name + "/", directory.UnixFileMode), ct).ConfigureAwait(false);
                foreach (var child in SortedChildren(directory))
                {
                    await WriteTreeAsync(tar, child, name + "/" + child.Name, ct).ConfigureAwait(false);
                }

                break;

            case FileKind.SymbolicLink:
                var link = Entry(TarEntryType.SymbolicLink, name, LinkMode);
                link.LinkName = info.LinkTarget!;
                await tar.WriteEntryAsync(link, ct).ConfigureAwait(false);
                break;

            case FileKind.Regular:
                var file = Entry(TarEntryType.RegularFile, name, info.UnixFileMode);
                var data = new FileStream(info.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
                await using (data.ConfigureAwait(false))
                {
                    file.DataStream = data;
                    await tar.WriteEntryAsync(file, ct).ConfigureAwait(false);
                }

                break;

            default:
                break; // FIFO, socket, device: not part of a layer
        }
    }

    private static GnuTarEntry Entry(TarEntryType type, string name, UnixFileMode mode) => new(type, name)
    {
        ModificationTime = EntryTime,
        Mode = mode,
        Uid = 0,
        Gid = 0,
        UserName = string.Empty,
        GroupName = string.Empty,
    };

    // A directory of the merged tree (Target null) or a symlink to Target.
    private sealed class LinkNode(string? target)
    {
        public string? Target { get; } = target;

        public SortedDictionary<string, LinkNode> Children { get; } = new(StringComparer.Ordinal);
    }

    private const string NixSupport = "nix-support";

    private static void MergeInto(LinkNode node, DirectoryInfo directory, string? skip = null)
    {
        foreach (var child in SortedChildren(directory).Where(c => c.Name != skip))
        {
            var kind = FileKinds.Of(child);
            if (node.Children.TryGetValue(child.Name, out var existing))
            {
                // Taken by an earlier root. Two directories merge; any other pairing: first wins.
                if (existing.Target is null && kind == FileKind.Directory)
                {
                    MergeInto(existing, (DirectoryInfo)child);
                }

                continue;
            }

            switch (kind)
            {
                case FileKind.Directory:
                    var merged = new LinkNode(null);
                    node.Children.Add(child.Name, merged);
                    MergeInto(merged, (DirectoryInfo)child);
                    break;
                case FileKind.Regular or FileKind.SymbolicLink:
                    node.Children.Add(child.Name, new LinkNode(child.FullName));
                    break;
                default:
                    break;
            }
        }
    }

    private static async Task WriteLinksAsync(TarWriter tar, LinkNode directory, string prefix, CancellationToken ct)
    {
        foreach (var (name, node) in directory.Children)
        {
            if (node.Target is null)
            {
                await tar.WriteEntryAsync(Entry(TarEntryType.Directory, prefix + name + "/", DirectoryMode), ct).ConfigureAwait(false);
                await WriteLinksAsync(tar, node, prefix + name + "/", ct).ConfigureAwait(false);
            }
            else
            {
                var link = Entry(TarEntryType.SymbolicLink, prefix + name, LinkMode);
                link.LinkName = node.Target;
                await tar.WriteEntryAsync(link, ct).ConfigureAwait(false);
            }
        }
    }
}
