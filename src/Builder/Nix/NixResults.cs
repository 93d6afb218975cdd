// The records the Nix side hands to the rest of the build: what the image will hold (the
// runtime graph of store paths) or why it cannot be built (missing package names).
namespace Nixery.Builder.Nix;

/// <summary>One store path as <c>nix path-info --json --closure-size</c> reports it; <paramref name="NarHash"/>
/// as Nix prints it ("sha256:&lt;nix base-32&gt;" in Nix 2.8, "sha256-&lt;base64&gt;" later), when it does.</summary>
public sealed record StorePathInfo(string Path, IReadOnlyList<string> References, long NarSize, long ClosureSize, string? NarHash = null);

/// <summary>A licence as the package set states it: an SPDX id where it gives one, else a name.</summary>
public sealed record PackageLicense(string? SpdxId, string? Name);

/// <summary>The runtime closure of an image's packages, sorted by <see cref="StorePathInfo.Path"/> (ordinal).</summary>
public sealed record RuntimeGraph(IReadOnlyList<StorePathInfo> Paths);

/// <summary>Package names as the registry received them (lower-case, possibly dotted), the Nix system, and the package set directory to import.</summary>
public sealed record PrepareRequest(IReadOnlyList<string> Packages, string System, string PackageSetPath);

public abstract record PrepareResult;

/// <summary>Every requested name the package set does not have, in request order.</summary>
public sealed record PackagesNotFound(IReadOnlyList<string> Missing) : PrepareResult;

/// <summary>
/// The realised packages. <paramref name="TopLevel"/> holds the requested packages' output paths in
/// request order (duplicates removed: bash and bashinteractive are one path). <paramref name="LinkRoots"/>
/// are the paths the symlink layer links: the top-levels, or — when the package set asks for
/// linkClosure — the top-levels followed by the rest of the closure sorted by path.
/// <paramref name="Licenses"/>: output path → its licences, where the package set knows them (prepare-image.nix).
/// </summary>
public sealed record Prepared(RuntimeGraph Graph, IReadOnlyList<string> TopLevel, IReadOnlyList<string> LinkRoots, IReadOnlyDictionary<string, IReadOnlyList<PackageLicense>>? Licenses = null) : PrepareResult;
