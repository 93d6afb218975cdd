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
//   0 with empty user and group names (the symlink layer's home folder of a non-root image
//   excepted: ImageRoot), the permission bits of the file (the store keeps only 0444/0555),
//   symlinks as symlinks;
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
    /// Writes the symlink layer of <paramref name="linkRoots"/> (see <see cref="SymlinkForest"/>).
    /// </summary>
    public static Task<PackedLayer> PackSymlinkLayerAsync(IReadOnlyList<string> linkRoots, Stream output, CancellationToken ct, PackingPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(linkRoots);
        return PackSymlinkLayerAsync(SymlinkForest.Merge(linkRoots), output, ct, pool);
    }

    /// <summary>
    /// Writes the symlink layer: the forest's folders (0755 unless a root entry says otherwise),
    /// its links and its root entries' files, depth-first in name order.
    /// </summary>
    public static async Task<PackedLayer> PackSymlinkLayerAsync(SymlinkForest forest, Stream output, CancellationToken ct, PackingPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(forest);
        ArgumentNullException.ThrowIfNull(output);

        var layer = new LayerStream(output, pool ?? PackingPool.Default, ct);
        await using var _ = layer.ConfigureAwait(false);
        var tar = new TarWriter(layer, Format, leaveOpen: true);
        await using (tar.ConfigureAwait(false))
        {
            await forest.WriteAsync(tar, (type, name, mode, owner) => Entry(type, name, mode, owner), ct).ConfigureAwait(false);
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

    private static GnuTarEntry Entry(TarEntryType type, string name, UnixFileMode mode, int owner = 0) => new(type, name)
    {
        ModificationTime = EntryTime,
        Mode = mode,
        Uid = owner,
        Gid = owner,
        UserName = string.Empty,
        GroupName = string.Empty,
    };
}
