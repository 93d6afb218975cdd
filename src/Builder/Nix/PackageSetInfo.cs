// What the registry needs to know about a package set beyond its attributes, read from the
// set's nixery.json (written by nix/debian/generate). A set without one is taken to be
// nixpkgs-like: packages are self-contained store paths, so only the requested packages
// are linked into the image's /bin, /lib, /etc.
using System.Text.Json;

namespace Nixery.Builder.Nix;

/// <param name="Name">Display name of the set.</param>
/// <param name="LinkClosure">Link every closure path into the symlink layer, not only the top-levels
/// (Debian-built sets: their binaries load /lib/x86_64-linux-gnu/libc.so.6 by absolute path).</param>
/// <param name="AlwaysInclude">Packages added to every image (certificates, /etc/services).</param>
/// <param name="Shell">What the meta-package <c>shell</c> expands to.</param>
/// <param name="System">The Nix system the set builds for by default.</param>
/// <param name="Systems">Every system the set can build (nixery.json "systems"; default: System only).
/// More than one: an image whose name does not choose an architecture gets an OCI index.</param>
public sealed record PackageSetInfo(string Name, bool LinkClosure, IReadOnlyList<string> AlwaysInclude, IReadOnlyList<string> Shell, string System, IReadOnlyList<string> Systems)
{
    public const string FileName = "nixery.json";

    /// <summary>Nixery's defaults for nixpkgs.</summary>
    public static PackageSetInfo Default { get; } = new(
        "nixpkgs", false, ["cacert", "iana-etc"], ["bashInteractive", "coreutils", "moreutils", "nano"], "x86_64-linux", ["x86_64-linux"]);

    /// <summary>Reads <c>nixery.json</c> in <paramref name="packageSetPath"/>; missing file or fields take <see cref="Default"/>'s values.</summary>
    public static PackageSetInfo Load(string packageSetPath)
    {
        var file = Path.Combine(packageSetPath, FileName);
        if (!File.Exists(file))
        {
            return Default;
        }

        PackageSetJson? json;
        try
        {
            json = JsonSerializer.Deserialize(File.ReadAllText(file), NixJsonContext.Default.PackageSetJson);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file} is not valid package set metadata: {e.Message}", e);
        }

        var system = json?.System ?? Default.System;
        return new PackageSetInfo(
            json?.Name ?? Default.Name,
            json?.LinkClosure ?? Default.LinkClosure,
            json?.AlwaysInclude ?? Default.AlwaysInclude,
            json?.Shell ?? Default.Shell,
            system,
            json?.Systems is { Count: > 0 } systems ? systems : [system]);
    }
}
