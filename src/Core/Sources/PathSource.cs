// A package set in a local folder (NIXERY_PKGS_PATH, or kind "path" in NIXERY_SOURCES). Its
// revision is a hash of the folder's files, so the image key changes when the set changes
// and stays the same across machines that hold the same files. The tag does not matter.
using System.Security.Cryptography;

namespace Nixery.Core.Sources;

public sealed class PathSource(SourceDefinition definition, RevisionCache cache) : IPackageSource
{
    public SourceDefinition Definition { get; } = definition;

    public string Path { get; } = System.IO.Path.GetFullPath(definition.Location);

    public async Task<PackageSource> ResolveAsync(string tag, CancellationToken cancellationToken)
    {
        var revision = await cache.GetAsync(Path, () => Task.FromResult(HashTree(Path)), cancellationToken);
        return new PackageSource(SourceKinds.Path, Path, revision);
    }

    /// <summary>Only <c>latest</c>: a folder has one state, whatever the tag says.</summary>
    public Task<IReadOnlyList<string>> ListTagsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([SourceCatalog.LatestTag]);

    /// <summary>sha256 over (relative path, kind, content or link target) of every entry, sorted.</summary>
    public static string HashTree(string root)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var entries = Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Select(p => System.IO.Path.GetRelativePath(root, p))
            .Where(p => !p.Split('/').Any(part => part.StartsWith('.')))
            .Order(StringComparer.Ordinal);
        foreach (var relative in entries)
        {
            var full = System.IO.Path.Combine(root, relative);
            var info = new FileInfo(full);
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(relative + "\0"));
            if (info.LinkTarget is { } target)
            {
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes("l" + target + "\0"));
            }
            else if (info.Exists)
            {
                hash.AppendData("f"u8);
                hash.AppendData(SHA256.HashData(File.ReadAllBytes(full)));
            }
            else
            {
                hash.AppendData("d"u8);
            }
        }

        return "sha256-" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
