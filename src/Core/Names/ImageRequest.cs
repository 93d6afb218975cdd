// What a repository name asks for. The name *is* the package list: `shell/git/htop` means
// the meta-package `shell` plus git and htop. Components are sorted and de-duplicated so
// that `git/htop` and `htop/git` are one image, and the package set's always-included
// packages (certificates, /etc/services) are added. Meta-packages:
//   shell  the package set's shell packages (bash, coreutils and friends)
//   arm64  build for aarch64-linux instead of x86_64-linux
using System.Text.Json.Serialization;

namespace Nixery.Core.Names;

public sealed record Architecture(
    [property: JsonPropertyName("nixSystem")] string NixSystem,
    [property: JsonPropertyName("imageArch")] string ImageArch)
{
    public static readonly Architecture Amd64 = new("x86_64-linux", "amd64");
    public static readonly Architecture Arm64 = new("aarch64-linux", "arm64");
}

/// <summary>The packages meta-package names expand to, per package set.</summary>
public sealed record MetaPackages(IReadOnlyList<string> Shell, IReadOnlyList<string> AlwaysInclude);

public sealed record ImageRequest(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("packages")] IReadOnlyList<string> Packages,
    [property: JsonPropertyName("arch")] Architecture Arch)
{
    /// <summary>Parses a repository name that already passed <see cref="ReferenceGrammar.IsValidName"/>.</summary>
    public static ImageRequest FromName(string name, MetaPackages meta)
    {
        var components = name.Split('/');
        var arch = Architecture.Amd64;
        var packages = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var component in components)
        {
            switch (component)
            {
                case "shell":
                    packages.UnionWith(meta.Shell);
                    break;
                case "arm64":
                    arch = Architecture.Arm64;
                    break;
                default:
                    packages.Add(component);
                    break;
            }
        }

        packages.UnionWith(meta.AlwaysInclude);
        var sortedName = string.Join('/', components.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        return new ImageRequest(sortedName, [.. packages], arch);
    }
}
