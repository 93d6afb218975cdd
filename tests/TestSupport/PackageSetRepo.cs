// A real git repository holding a tiny package set, committed as a test needs it, and the
// same set as a tarball: the fixtures for the git and channel package sources. The set has
// one package, `marker`, whose store path holds share/marker with a text the test chooses,
// so an image built from a given commit shows which commit it came from. Built by Nix with
// /bin/sh (sandbox off), no nixpkgs needed.
namespace Nixery.TestSupport;

public sealed class PackageSetRepo : IDisposable
{
    private readonly TempDir _folder = new("nixery-pkgset-repo");

    private PackageSetRepo()
    {
    }

    /// <summary>The repository's work tree (a path git accepts as a remote).</summary>
    public string Path => _folder.Combine("repo");

    public static async Task<PackageSetRepo> CreateAsync()
    {
        var repo = new PackageSetRepo();
        Directory.CreateDirectory(repo.Path);
        await repo.GitAsync("init", "--quiet", "--initial-branch=main");
        await repo.GitAsync("config", "user.email", "tests@nixery.invalid");
        await repo.GitAsync("config", "user.name", "tests");
        return repo;
    }

    /// <summary>Writes the set with <paramref name="marker"/> as the marker text and commits it; the commit id.</summary>
    public async Task<string> CommitSetAsync(string marker, string message)
    {
        WriteSet(Path, marker);
        await GitAsync("add", "--all");
        await GitAsync("commit", "--quiet", "--allow-empty", "-m", message);
        return (await GitAsync("rev-parse", "HEAD")).Trim();
    }

    public Task<string> GitAsync(params string[] args) => RunGitAsync(Path, args);

    /// <summary>A package set folder whose `marker` package says <paramref name="marker"/>.</summary>
    /// <param name="systems">Written as nixery.json "systems" when given (a multi-system set).</param>
    public static void WriteSet(string folder, string marker, IReadOnlyList<string>? systems = null)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(System.IO.Path.Combine(folder, "default.nix"), $$"""
            { system ? "x86_64-linux" }:
            {
              marker = derivation {
                name = "marker";
                inherit system;
                builder = "/bin/sh";
                args = [ "-c" "/bin/mkdir -p $out/share && echo {{marker}} > $out/share/marker" ];
              };
            }
            """);
        var systemsJson = systems is null ? "" : $",\"systems\":[{string.Join(',', systems.Select(s => $"\"{s}\""))}]";
        File.WriteAllText(System.IO.Path.Combine(folder, "nixery.json"),
            $$"""{"name":"marker-fixture","linkClosure":false,"alwaysInclude":[],"shell":[],"system":"x86_64-linux"{{systemsJson}}}""");
    }

    /// <summary>The set as a gzip tarball with one top-level folder, as nixpkgs tarballs are.</summary>
    public static async Task WriteTarballAsync(string file, string marker)
    {
        using var staging = new TempDir("nixery-tarball");
        WriteSet(staging.Combine("set-1"), marker);
        (await ProcessRunner.RunAsync("tar", ["-czf", file, "-C", staging.Path, "set-1"])).EnsureSuccess("tar -czf");
    }

    public void Dispose() => _folder.Dispose();

    private static async Task<string> RunGitAsync(string folder, string[] args) =>
        (await ProcessRunner.RunAsync("git", args, workingDirectory: folder)).EnsureSuccess("git " + string.Join(' ', args)).Stdout;
}
