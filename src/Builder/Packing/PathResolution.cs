// Follows a path through symlinks one component at a time, as the kernel does (path_resolution(7)):
// "." is skipped, ".." goes up (not above "/"), a link's absolute target restarts from "/" and
// a relative one from the link's folder, and more than 40 links fail as ELOOP does. What is at
// a path is asked of a lookup, so the same walk serves the symlink layer before it is packed
// (SymlinkForest: the forest and the image's store paths) and an unpacked image after it is
// pulled (the end-to-end tests).
namespace Nixery.Builder.Packing;

public static class PathResolution
{
    /// <summary>Most links one resolution follows, as Linux (MAXSYMLINKS).</summary>
    public const int MaxHops = 40;

    /// <summary>Whether <paramref name="path"/> (absolute) leads to a file or folder.
    /// <paramref name="lookup"/> gets the components of a path whose parent resolved, and says
    /// what is there: null nothing, "" a file or folder, anything else a symlink's target.</summary>
    public static bool Resolves(string path, Func<IReadOnlyList<string>, string?> lookup)
    {
        var pending = new Stack<string>();
        Push(pending, path);
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

            current.Add(part);
            switch (lookup(current))
            {
                case null:
                    return false;
                case { Length: > 0 } link:
                    if (++hops > MaxHops)
                    {
                        return false;
                    }

                    current.RemoveAt(current.Count - 1);
                    if (link.StartsWith('/'))
                    {
                        current.Clear();
                    }

                    Push(pending, link);
                    break;
                default:
                    break; // a file or folder; a file with components left fails at the next lookup
            }
        }

        return true;
    }

    private static void Push(Stack<string> pending, string path)
    {
        var parts = path.Split('/');
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            pending.Push(parts[i]);
        }
    }
}
