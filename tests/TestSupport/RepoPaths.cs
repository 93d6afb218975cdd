// Locates the repository from a test's output folder, and the things scripts/setup prepares
// there. A missing package set fails the test with the command that makes it, rather than
// skipping: a skipped Nix test looks green on a machine that never ran it.
namespace Nixery.TestSupport;

public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The repository root: $NIXERY_REPO_ROOT, else the nearest folder above the test assembly holding Nixery.sln or global.json.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>The Nix expressions the builder calls (prepare-image.nix).</summary>
    public static string NixDir => Path.Combine(Root, "nix");

    /// <summary>The generator of the offline Debian package set.</summary>
    public static string GeneratorPath => Path.Combine(Root, "nix", "debian", "generate");

    /// <summary>The repository's local state folder (gitignored).</summary>
    public static string StateDir => Path.Combine(Root, ".state");

    /// <summary>The offline package set scripts/setup generates; throws when it has not been generated.</summary>
    public static string PackageSetDir
    {
        get
        {
            var dir = Path.Combine(StateDir, "pkgset");
            if (!File.Exists(Path.Combine(dir, "default.nix")))
            {
                throw new InvalidOperationException(
                    $"The offline package set {dir} is missing: run scripts/setup (as root) from {Root} first.");
            }

            return dir;
        }
    }

    private static string FindRoot()
    {
        // For test projects built outside the tree (scratch copies, CI layouts).
        if (Environment.GetEnvironmentVariable("NIXERY_REPO_ROOT") is { Length: > 0 } overridden)
        {
            return Path.GetFullPath(overridden);
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Nixery.sln")) || File.Exists(Path.Combine(dir.FullName, "global.json")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Nixery.sln or global.json above {AppContext.BaseDirectory}; run the tests from inside the repository.");
    }
}
