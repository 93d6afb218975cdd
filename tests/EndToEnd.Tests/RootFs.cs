// Reads an unpacked image's root file system as the image sees it: a symlink's absolute
// target is taken inside the root, not on this machine (whose /nix/store holds every path),
// with the kernel's walk (PathResolution); the programs the tests run in a chroot check the
// same with the kernel itself.
using Nixery.Builder.Packing;

namespace Nixery.EndToEnd.Tests;

public static class RootFs
{
    /// <summary>Every symlink directly in <paramref name="folders"/> of the root ("usr/bin"…)
    /// whose target does not resolve inside the root, as "/usr/bin/x -> target".</summary>
    public static IReadOnlyList<string> DanglingLinks(string rootfs, params string[] folders)
    {
        var dangling = new List<string>();
        foreach (var folder in folders)
        {
            var full = Path.Combine(rootfs, folder);
            if (!Directory.Exists(full))
            {
                continue;
            }

            foreach (var entry in new DirectoryInfo(full).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                if (entry.LinkTarget is { } target && !Resolves(rootfs, $"/{folder}/{entry.Name}"))
                {
                    dangling.Add($"/{folder}/{entry.Name} -> {target}");
                }
            }
        }

        return dangling;
    }

    /// <summary>Whether <paramref name="path"/> (absolute, in the image) leads to a file or folder.</summary>
    public static bool Resolves(string rootfs, string path) =>
        PathResolution.Resolves(path, parts =>
        {
            var candidate = Path.Combine([rootfs, .. parts]);
            var info = new FileInfo(candidate);
            return info.LinkTarget ?? (info.Exists || Directory.Exists(candidate) ? "" : null);
        });
}
