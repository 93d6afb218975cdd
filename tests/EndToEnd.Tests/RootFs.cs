// Reads an unpacked image's root file system as the image sees it: a symlink's absolute
// target is taken inside the root, not on this machine (whose /nix/store holds every path).
namespace Nixery.EndToEnd.Tests;

public static class RootFs
{
    /// <summary>Most links one resolution follows, as Linux.</summary>
    private const int MaxHops = 40;

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
    public static bool Resolves(string rootfs, string path)
    {
        var pending = new Stack<string>(path.Split('/').Reverse());
        var current = new List<string>();
        var hops = 0;
        while (pending.TryPop(out var part))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (current.Count > 0)
                {
                    current.RemoveAt(current.Count - 1);
                }

                continue;
            }

            var candidate = Path.Combine([rootfs, .. current, part]);
            var info = new FileInfo(candidate);
            if (info.LinkTarget is { } target)
            {
                if (++hops > MaxHops)
                {
                    return false;
                }

                if (target.StartsWith('/'))
                {
                    current.Clear();
                }

                foreach (var next in target.Split('/').Reverse())
                {
                    pending.Push(next);
                }
            }
            else if (info.Exists || Directory.Exists(candidate))
            {
                current.Add(part);
            }
            else
            {
                return false;
            }
        }

        return true;
    }
}
