// Store path names, in one place: what a store path is called once its store directory and
// hash are taken off ("/nix/store/0c6…-bash-5.2" → "bash-5.2"). Popularity data is keyed by
// it, and the image builder asks it whether an image holds a shell. The SBOM also splits it
// as Nix does (builtins.parseDrvName) and quotes the hash part.
using System.Text.RegularExpressions;

namespace Nixery.Builder.Nix;

public static partial class StorePaths
{
    /// <summary>"/nix/store/0c6…-bash-5.2" → "bash-5.2"; anything else is returned as given.</summary>
    public static string Name(string storePath) => StorePrefix().Replace(storePath, string.Empty, 1);

    /// <summary>The hash part, "/nix/store/0c6…-bash-5.2" → "0c6…"; empty for anything else.</summary>
    public static string HashPart(string storePath)
    {
        var match = StorePrefix().Match(storePath);
        return match.Success ? storePath["/nix/store/".Length..(match.Length - 1)] : string.Empty;
    }

    /// <summary>Package name and version as builtins.parseDrvName splits a name: the version
    /// starts after the first "-" that a non-letter follows ("bash-5.2.15-2+b8" → bash,
    /// 5.2.15-2+b8; "libgcc-s1" has none: "s" is a letter).</summary>
    public static (string Package, string Version) PackageAndVersion(string storePath)
    {
        var name = Name(storePath);
        for (var i = 0; i + 1 < name.Length; i++)
        {
            if (name[i] == '-' && !char.IsAsciiLetter(name[i + 1]))
            {
                return (name[..i], name[(i + 1)..]);
            }
        }

        return (name, string.Empty);
    }

    // Store hashes are Nix base-32: digits and lower-case letters.
    [GeneratedRegex("^/nix/store/[a-z0-9]+-", RegexOptions.CultureInvariant)]
    private static partial Regex StorePrefix();
}
