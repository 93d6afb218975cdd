// Store path names, in one place: what a store path is called once its store directory and
// hash are taken off ("/nix/store/0c6…-bash-5.2" → "bash-5.2"). Popularity data is keyed by
// it, and the image builder asks it whether an image holds a shell.
using System.Text.RegularExpressions;

namespace Nixery.Builder.Nix;

public static partial class StorePaths
{
    /// <summary>"/nix/store/0c6…-bash-5.2" → "bash-5.2"; anything else is returned as given.</summary>
    public static string Name(string storePath) => StorePrefix().Replace(storePath, string.Empty, 1);

    // Store hashes are Nix base-32: digits and lower-case letters.
    [GeneratedRegex("^/nix/store/[a-z0-9]+-", RegexOptions.CultureInvariant)]
    private static partial Regex StorePrefix();
}
