// A package source as configured: a name, how it is fetched, and from where. Parsed and
// checked at start-up (Options/SourceSettings.cs); resolved to a revision per request
// (IPackageSource) and fetched at that revision by the worker (Builder/Sources).
namespace Nixery.Core.Sources;

public static class SourceKinds
{
    /// <summary>A package set folder on this machine; its revision is a hash of its files.</summary>
    public const string Path = "path";

    /// <summary>A git repository; the tag picks the commit (40 hex digits), branch or tag, or the default branch (latest).</summary>
    public const string Git = "git";

    /// <summary>A nixpkgs channel by name (nixos-24.05) or a tarball URL (file://, https://).</summary>
    public const string Channel = "channel";
}

/// <param name="Name">How an image name or tag selects this source; "default" for the one set
/// by NIXERY_PKGS_PATH, NIXERY_CHANNEL or NIXERY_PKGS_REPO.</param>
/// <param name="Kind">One of <see cref="SourceKinds"/>.</param>
/// <param name="Location">A folder, a repository URL or path, a channel name or a tarball URL.</param>
public sealed record SourceDefinition(string Name, string Kind, string Location);
