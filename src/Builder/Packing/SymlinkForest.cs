// The tree the symlink layer holds: the union of the link roots' trees mapped onto "/", each
// file or symlink of a root becoming a symlink to its store location ("bin/bash" →
// "/nix/store/…-bash/bin/bash") and each directory a real directory (0755), plus the image's
// root entries (ImageRoot: /tmp, /etc/passwd …), which are real files and folders and come
// first. Where two disagree the earlier wins, whatever the kinds involved; two directories
// merge. A root's top-level "nix-support" folder is build metadata (Nix's convention, as in
// buildEnv), not image content, and is left out.
//
// The forest also says which of its links would dangle in the image (DanglingLinks): a link
// resolves when following it — through the forest for paths outside the store, through the
// store paths the image holds for paths inside it, component by component as the kernel
// does — ends at a file or folder. A store path that is on this machine but not in the image
// does not count. Debian packages ship relative links into other packages; the offline set's
// generator rewrites those (nix/debian/generate), and this check logs what is left.
using System.Formats.Tar;

namespace Nixery.Builder.Packing;

/// <summary>A real file (Content) or folder (Content null) of the image's root, at a relative path.</summary>
public sealed record RootEntry(string Path, UnixFileMode Mode, int Owner, byte[]? Content)
{
    public static RootEntry Folder(string path, UnixFileMode mode, int owner = 0) => new(path, mode, owner, null);

    public static RootEntry File(string path, UnixFileMode mode, string text) => new(path, mode, 0, System.Text.Encoding.UTF8.GetBytes(text));
}

public sealed class SymlinkForest
{
    private const string NixSupport = "nix-support";

    private static readonly UnixFileMode DirectoryMode = (UnixFileMode)0b111_101_101; // 0755

    private readonly Node _top = Node.Folder(DirectoryMode, 0);

    private SymlinkForest()
    {
    }

    /// <summary>Root entries first, then each link root in order.</summary>
    public static SymlinkForest Merge(IReadOnlyList<string> linkRoots, IReadOnlyList<RootEntry>? root = null)
    {
        var forest = new SymlinkForest();
        foreach (var entry in root ?? [])
        {
            forest.Add(entry);
        }

        foreach (var linkRoot in linkRoots)
        {
            var directory = new DirectoryInfo(Normalise(linkRoot));
            if (directory.Exists && directory.LinkTarget is null)
            {
                MergeInto(forest._top, directory, skip: NixSupport);
            }
        }

        return forest;
    }

    /// <summary>Every link of the forest ("usr/bin/python3") whose target does not resolve in an
    /// image holding exactly <paramref name="storePaths"/> (absolute paths: "/nix/store/…-bash"),
    /// in path order.</summary>
    public IReadOnlyList<(string Link, string Target)> DanglingLinks(IReadOnlySet<string> storePaths)
    {
        var image = new ImagePaths(storePaths);
        var dangling = new List<(string, string)>();
        foreach (var (path, node) in Walk(_top, ""))
        {
            if (node.Target is { } target && !Resolves(target, image))
            {
                dangling.Add((path, target));
            }
        }

        return dangling;
    }

    internal async Task WriteAsync(TarWriter tar, Func<TarEntryType, string, UnixFileMode, int, TarEntry> entry, CancellationToken ct) =>
        await WriteAsync(tar, entry, _top, "", ct).ConfigureAwait(false);

    private static async Task WriteAsync(TarWriter tar, Func<TarEntryType, string, UnixFileMode, int, TarEntry> entry, Node directory, string prefix, CancellationToken ct)
    {
        foreach (var (name, node) in directory.Children)
        {
            var path = prefix + name;
            if (node.IsFolder)
            {
                await tar.WriteEntryAsync(entry(TarEntryType.Directory, path + "/", node.Mode, node.Owner), ct).ConfigureAwait(false);
                await WriteAsync(tar, entry, node, path + "/", ct).ConfigureAwait(false);
            }
            else if (node.Target is { } target)
            {
                var link = entry(TarEntryType.SymbolicLink, path, node.Mode, 0);
                link.LinkName = target;
                await tar.WriteEntryAsync(link, ct).ConfigureAwait(false);
            }
            else
            {
                var file = entry(TarEntryType.RegularFile, path, node.Mode, node.Owner);
                file.DataStream = new MemoryStream(node.Content!, writable: false);
                await tar.WriteEntryAsync(file, ct).ConfigureAwait(false);
            }
        }
    }

    private void Add(RootEntry entry)
    {
        var parts = entry.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var node = _top;
        foreach (var parent in parts[..^1])
        {
            if (!node.Children.TryGetValue(parent, out var next))
            {
                next = Node.Folder(DirectoryMode, 0);
                node.Children.Add(parent, next);
            }

            node = next;
        }

        node.Children[parts[^1]] = entry.Content is null ? Node.Folder(entry.Mode, entry.Owner) : Node.File(entry.Content, entry.Mode);
    }

    private static string Normalise(string path)
    {
        var full = Path.GetFullPath(path);
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }

    private static void MergeInto(Node node, DirectoryInfo directory, string? skip = null)
    {
        foreach (var child in directory.EnumerateFileSystemInfos().OrderBy(c => c.Name, StringComparer.Ordinal).Where(c => c.Name != skip))
        {
            var kind = FileKinds.Of(child);
            if (node.Children.TryGetValue(child.Name, out var existing))
            {
                // Taken earlier. Two directories merge; any other pairing: first wins.
                if (existing.IsFolder && kind == FileKind.Directory)
                {
                    MergeInto(existing, (DirectoryInfo)child);
                }

                continue;
            }

            switch (kind)
            {
                case FileKind.Directory:
                    var merged = Node.Folder(DirectoryMode, 0);
                    node.Children.Add(child.Name, merged);
                    MergeInto(merged, (DirectoryInfo)child);
                    break;
                case FileKind.Regular or FileKind.SymbolicLink:
                    node.Children.Add(child.Name, Node.Link(child.FullName));
                    break;
                default:
                    break;
            }
        }
    }

    private static IEnumerable<(string Path, Node Node)> Walk(Node directory, string prefix)
    {
        foreach (var (name, node) in directory.Children)
        {
            yield return (prefix + name, node);
            if (node.IsFolder)
            {
                foreach (var below in Walk(node, prefix + name + "/"))
                {
                    yield return below;
                }
            }
        }
    }

    private bool Resolves(string target, ImagePaths storePaths) =>
        PathResolution.Resolves(target, path => Lookup(path, storePaths));

    /// <summary>null: nothing there; "": a file or folder; otherwise the link's target.</summary>
    private string? Lookup(IReadOnlyList<string> path, ImagePaths storePaths)
    {
        var full = "/" + string.Join('/', path);
        if (storePaths.Ancestors.Contains(full))
        {
            return ""; // /nix, /nix/store: the store layers hold them
        }

        var prefix = "";
        foreach (var part in path)
        {
            prefix += "/" + part;
            if (storePaths.Roots.Contains(prefix))
            {
                // Inside a store path of the image: what the store holds there.
                var info = new FileInfo(full);
                if (info.LinkTarget is { } hostTarget)
                {
                    return hostTarget;
                }

                return info.Exists || Directory.Exists(full) ? "" : null;
            }
        }

        var node = _top;
        foreach (var part in path)
        {
            if (!node.IsFolder || !node.Children.TryGetValue(part, out var next))
            {
                return null;
            }

            node = next;
        }

        return node.Target ?? "";
    }

    /// <summary>The image's store paths and the folders above them.</summary>
    private sealed class ImagePaths
    {
        public ImagePaths(IReadOnlySet<string> roots)
        {
            Roots = roots;
            foreach (var root in roots)
            {
                for (var slash = root.IndexOf('/', 1); slash > 0; slash = root.IndexOf('/', slash + 1))
                {
                    Ancestors.Add(root[..slash]);
                }
            }
        }

        public IReadOnlySet<string> Roots { get; }

        public HashSet<string> Ancestors { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>A folder (no Target, no Content), a symlink (Target) or a real file (Content).</summary>
    private sealed class Node
    {
        private Node(string? target, byte[]? content, UnixFileMode mode, int owner)
        {
            Target = target;
            Content = content;
            Mode = mode;
            Owner = owner;
        }

        public string? Target { get; }

        public byte[]? Content { get; }

        public UnixFileMode Mode { get; }

        /// <summary>The uid and gid of the entry.</summary>
        public int Owner { get; }

        public bool IsFolder => Target is null && Content is null;

        public SortedDictionary<string, Node> Children { get; } = new(StringComparer.Ordinal);

        public static Node Folder(UnixFileMode mode, int owner) => new(null, null, mode, owner);

        public static Node File(byte[] content, UnixFileMode mode) => new(null, content, mode, 0);

        public static Node Link(string target) => new(target, null, (UnixFileMode)0b111_111_111, 0);
    }
}
