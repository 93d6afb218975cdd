// The distribution spec's grammar for repository names and tags. Checked before anything
// else so that a bad name is a 400 NAME_INVALID and never reaches Nix.
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
using System.Text.RegularExpressions;

namespace Nixery.Core.Names;

public static partial class ReferenceGrammar
{
    /// <summary>Docker refuses longer names (reference.NameTotalLengthMax).</summary>
    public const int MaxNameLength = 255;

    public static bool IsValidName(string name) => name.Length <= MaxNameLength && NamePattern().IsMatch(name);

    public static bool IsValidTag(string tag) => TagPattern().IsMatch(tag);

    [GeneratedRegex(@"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();
}
