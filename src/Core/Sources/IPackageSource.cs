// Turning "this source, this tag" into the revision that goes into the image key, at
// request time. Moving targets (a branch, a channel, a folder that changes) are looked up
// at most once per NIXERY_REVISION_CACHE; pinned ones (a commit) never (RevisionCache).

namespace Nixery.Core.Sources;

public interface IPackageSource
{
    SourceDefinition Definition { get; }

    /// <summary>The revision the tag stands for, with what a worker needs to fetch it. Throws a
    /// RegistryException (MANIFEST_UNKNOWN) for a tag that names nothing in this source, and
    /// (UNAVAILABLE) when the source cannot be reached.</summary>
    Task<PackageSource> ResolveAsync(string tag, CancellationToken cancellationToken);

    /// <summary>The tags an image name from this source answers to, for tags/list: always
    /// <c>latest</c>; a git source adds its branches and tags (those that are valid registry
    /// tags, at most <see cref="SourceCatalog.MaxListedTags"/>). Unsorted. Throws as
    /// <see cref="ResolveAsync"/> does when the source cannot be reached.</summary>
    Task<IReadOnlyList<string>> ListTagsAsync(CancellationToken cancellationToken);
}

/// <summary>The source could not be read (a repository that does not answer, a tarball that
/// cannot be downloaded). The message says which source and why.</summary>
public sealed class SourceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
