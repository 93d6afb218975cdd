// The package-source settings: one default source, from exactly one of Nixery's settings
// (NIXERY_PKGS_PATH, NIXERY_CHANNEL, NIXERY_PKGS_REPO), and any number of named sources in
// NIXERY_SOURCES, which an image name's first component or its tag selects (Nixery issue
// #27 asks for several nixpkgs revisions from one instance):
//
//   NIXERY_SOURCES=stable=channel:nixos-24.05,dev=git:https://github.com/NixOS/nixpkgs,local=path:/srv/set
//
// With no single setting the first named source is the default. Every mistake is one
// sentence naming the setting, reported with all the others at start-up (Settings.Check).
// Read by every process that resolves names to sources (the HTTP side).
using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Nixery.Core.Sources;

namespace Nixery.Core.Options;

public sealed partial class SourceOptions : ICheckedSettings
{
    /// <summary>The default source: a package set folder with a default.nix (Nixery's name).</summary>
    [ConfigurationKeyName("NIXERY_PKGS_PATH")]
    public string? PackageSetPath { get; set; }

    /// <summary>The default source: a nixpkgs channel or tarball URL (Nixery's name).</summary>
    [ConfigurationKeyName("NIXERY_CHANNEL")]
    public string? Channel { get; set; }

    /// <summary>The default source: a git repository (Nixery's name).</summary>
    [ConfigurationKeyName("NIXERY_PKGS_REPO")]
    public string? Repository { get; set; }

    /// <summary>More sources: name=kind:location,…</summary>
    [ConfigurationKeyName("NIXERY_SOURCES")]
    public string? Named { get; set; }

    /// <summary>Seconds a moving target (a branch, a channel, a folder's contents) stays resolved
    /// to the same revision before it is looked up again.</summary>
    [ConfigurationKeyName("NIXERY_REVISION_CACHE"), Range(0, 86400), Unit("seconds")]
    public int RevisionCacheSeconds { get; set; } = 60;

    public TimeSpan RevisionCacheFor => TimeSpan.FromSeconds(RevisionCacheSeconds);

    /// <summary>The sources, the default first (the ones whose settings are right).</summary>
    public IReadOnlyList<SourceDefinition> Sources => Read([]);

    public void Check(ICollection<string> errors) => Read(errors);

    /// <summary>Image-name components with a meaning of their own; a source cannot take them.</summary>
    private static readonly string[] Reserved = ["shell", "arm64", "nonroot", "default"];

    /// <summary>The sources, the default first; empty if none was configured (an error is added).</summary>
    private List<SourceDefinition> Read(ICollection<string> errors)
    {
        var singles = new[]
            {
                (Setting: "NIXERY_PKGS_PATH", Kind: SourceKinds.Path, Value: PackageSetPath),
                (Setting: "NIXERY_CHANNEL", Kind: SourceKinds.Channel, Value: Channel),
                (Setting: "NIXERY_PKGS_REPO", Kind: SourceKinds.Git, Value: Repository),
            }
            .Where(s => s.Value is not null)
            .ToList();
        var sources = new List<SourceDefinition>();
        if (singles.Count > 1)
        {
            errors.Add($"{string.Join(" and ", singles.Select(s => s.Setting))} are all set; set only one of them (the default package source) and put more sources in NIXERY_SOURCES.");
        }
        else if (singles.Count == 1)
        {
            var single = singles[0];
            if (Check(single.Setting, single.Kind, single.Value!, errors))
            {
                sources.Add(new SourceDefinition("default", single.Kind, single.Value!));
            }
        }

        if (Named is { } list)
        {
            foreach (var entry in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (ParseNamed(entry, errors) is { } named)
                {
                    if (sources.Any(s => s.Name == named.Name))
                    {
                        errors.Add($"NIXERY_SOURCES names '{named.Name}' twice; each source needs its own name.");
                    }
                    else
                    {
                        sources.Add(named);
                    }
                }
            }
        }

        if (sources.Count == 0 && singles.Count == 0 && Named is null)
        {
            errors.Add("No package source is set; set NIXERY_PKGS_PATH to a package set folder (a default.nix, e.g. .state/pkgset made by scripts/setup), NIXERY_CHANNEL to a nixpkgs channel or tarball URL, NIXERY_PKGS_REPO to a git repository, or NIXERY_SOURCES.");
        }

        return sources;
    }

    private static SourceDefinition? ParseNamed(string entry, ICollection<string> errors)
    {
        var equals = entry.IndexOf('=', StringComparison.Ordinal);
        var colon = equals < 0 ? -1 : entry.IndexOf(':', equals);
        if (equals <= 0 || colon < 0)
        {
            errors.Add($"NIXERY_SOURCES has '{entry}'; each entry must be name=kind:location, e.g. stable=channel:nixos-24.05 (kinds: path, git, channel).");
            return null;
        }

        var name = entry[..equals].Trim();
        var kind = entry[(equals + 1)..colon].Trim();
        var location = entry[(colon + 1)..].Trim();
        if (!NamePattern().IsMatch(name) || Reserved.Contains(name))
        {
            errors.Add($"NIXERY_SOURCES names a source '{name}'; a name must be lower-case letters and digits (with . _ - between them) and not one of {string.Join(", ", Reserved)}.");
            return null;
        }

        if (kind is not (SourceKinds.Path or SourceKinds.Git or SourceKinds.Channel))
        {
            errors.Add($"NIXERY_SOURCES gives source '{name}' the kind '{kind}'; it must be path, git or channel.");
            return null;
        }

        return Check($"NIXERY_SOURCES ({name})", kind, location, errors) ? new SourceDefinition(name, kind, location) : null;
    }

    private static bool Check(string setting, string kind, string location, ICollection<string> errors)
    {
        var error = kind switch
        {
            SourceKinds.Path when !File.Exists(Path.Combine(location, "default.nix")) =>
                $"{setting} is '{location}', which has no default.nix; it must name a package set folder (run scripts/setup to make .state/pkgset).",
            SourceKinds.Git when !IsRemote(location) && !Directory.Exists(LocalPath(location)) =>
                $"{setting} is '{location}', which is neither an http(s)/ssh/git URL nor an existing folder; it must name a git repository.",
            SourceKinds.Channel when location.StartsWith("file:", StringComparison.Ordinal) && !File.Exists(LocalPath(location)) =>
                $"{setting} is '{location}', which does not exist; a channel must be a channel name (nixos-24.05) or a tarball URL.",
            SourceKinds.Channel when !location.Contains(':', StringComparison.Ordinal) && !ChannelName().IsMatch(location) =>
                $"{setting} is '{location}'; a channel must be a channel name such as nixos-24.05 or nixpkgs-unstable, or a tarball URL (file://, https://).",
            SourceKinds.Channel when location.Contains(':', StringComparison.Ordinal) && !IsTarballUrl(location) =>
                $"{setting} is '{location}'; a channel URL must be file://, http:// or https://.",
            _ => null,
        };
        if (error is not null)
        {
            errors.Add(error);
        }

        return error is null;
    }

    public static bool IsRemote(string location) =>
        location.StartsWith("https://", StringComparison.Ordinal) || location.StartsWith("http://", StringComparison.Ordinal)
        || location.StartsWith("ssh://", StringComparison.Ordinal) || location.StartsWith("git://", StringComparison.Ordinal)
        || ScpLike().IsMatch(location);

    public static string LocalPath(string location) =>
        location.StartsWith("file://", StringComparison.Ordinal) ? new Uri(location).LocalPath : location;

    private static bool IsTarballUrl(string location) =>
        Uri.TryCreate(location, UriKind.Absolute, out var uri) && uri.Scheme is "file" or "http" or "https";

    [GeneratedRegex("^[a-z0-9]+([._-][a-z0-9]+)*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex ChannelName();

    /// <summary>git's scp-like syntax: user@host:path.</summary>
    [GeneratedRegex("^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:")]
    private static partial Regex ScpLike();
}
