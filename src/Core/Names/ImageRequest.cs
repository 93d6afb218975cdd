// What a repository name asks for. The name *is* the package list: `shell/git/htop` means
// the meta-package `shell` plus git and htop. Components are sorted and de-duplicated so
// that `git/htop` and `htop/git` are one image. Meta-packages:
//   shell    the package set's shell packages (bash, coreutils and friends)
//   arm64    build for aarch64-linux instead of x86_64-linux
//   nonroot  run as the user nonroot (65532:65532, home /home/nonroot) instead of root
// The image key hashes the request as named, with the source's revision: `shell` and the
// always-included packages (certificates, /etc/services) are expanded by the worker from the
// package set at that revision, so the HTTP side needs no copy of any package set.
using System.Text.Json.Serialization;

namespace Nixery.Core.Names;

public sealed record Architecture(
    [property: JsonPropertyName("nixSystem")] string NixSystem,
    [property: JsonPropertyName("imageArch")] string ImageArch)
{
    public static readonly Architecture Amd64 = new("x86_64-linux", "amd64");
    public static readonly Architecture Arm64 = new("aarch64-linux", "arm64");

    /// <summary>The architecture of a Nix system we can describe in an image, or null.</summary>
    public static Architecture? FromNixSystem(string system) =>
        system == Amd64.NixSystem ? Amd64 : system == Arm64.NixSystem ? Arm64 : null;
}

/// <summary>What meta-package names mean in one package set: read by the worker from the set
/// it fetched (nixery.json), because only the worker has the set at the image's revision.</summary>
public sealed record MetaPackages(IReadOnlyList<string> Shell, IReadOnlyList<string> AlwaysInclude)
{
    /// <summary>The packages to build: <c>shell</c> replaced by the shell packages, the
    /// always-included ones added, <c>nonroot</c> (no package) left out; sorted and de-duplicated.</summary>
    public IReadOnlyList<string> Expand(IReadOnlyList<string> requested)
    {
        var packages = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var package in requested)
        {
            if (package == ImageRequest.NonRootMeta)
            {
                continue;
            }

            if (package == ImageRequest.ShellMeta)
            {
                packages.UnionWith(Shell);
            }
            else
            {
                packages.Add(package);
            }
        }

        packages.UnionWith(AlwaysInclude);
        return [.. packages];
    }
}

/// <param name="Name">The image name, components sorted and de-duplicated.</param>
/// <param name="Packages">What the name asks for: packages and the meta-package <c>shell</c>,
/// sorted and de-duplicated; the worker expands it (<see cref="MetaPackages.Expand"/>).</param>
public sealed record ImageRequest(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("packages")] IReadOnlyList<string> Packages,
    [property: JsonPropertyName("arch")] Architecture Arch)
{
    public const string ShellMeta = "shell";

    public const string Arm64Meta = "arm64";

    /// <summary>Kept in <see cref="Packages"/> (so it is part of the image key) and read by the
    /// worker, which makes the image's user nonroot; it names no package.</summary>
    public const string NonRootMeta = "nonroot";

    /// <summary>The name asks for the non-root user.</summary>
    [JsonIgnore]
    public bool NonRoot => Packages.Contains(NonRootMeta);

    /// <summary>The name chose the architecture (arm64/…); otherwise a set that builds several
    /// systems gives an image index over them.</summary>
    [JsonIgnore]
    public bool ArchitectureNamed => Name.Split('/').Contains(Arm64Meta);

    /// <summary>Parses a repository name that already passed <see cref="ReferenceGrammar.IsValidName"/>
    /// (without a source component: SourceCatalog took that off).</summary>
    public static ImageRequest FromName(string name)
    {
        var components = name.Split('/');
        var arch = Architecture.Amd64;
        var packages = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var component in components)
        {
            if (component == Arm64Meta)
            {
                arch = Architecture.Arm64;
            }
            else
            {
                packages.Add(component);
            }
        }

        var sortedName = string.Join('/', components.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        return new ImageRequest(sortedName, [.. packages], arch);
    }
}
