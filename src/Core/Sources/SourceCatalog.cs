// Which source an image comes from. An image name's first component that names a source
// selects it (`stable/shell/git`); otherwise a tag that names a source selects it at its
// latest revision (`shell/git:stable`); otherwise the default source, which reads the tag
// itself (a git source: commit, branch or tag). A source name shadows a package of the
// same name in the first component, so names like "stable" or "unstable" are good choices.
//
// The tags of a name (tags/list) follow the same rule: a name whose first component names a
// source has that source's tags; any other name has the default source's tags plus the names
// of the other sources (`shell/git:stable`). A source's own tags depend on its kind
// (IPackageSource.ListTagsAsync): `latest` for a folder or a channel; `latest`, the branches
// and the tags for a git repository.

namespace Nixery.Core.Sources;

/// <param name="Packages">The image name without the source component.</param>
public sealed record SourceSelection(IPackageSource Source, string Packages, string Tag);

public sealed class SourceCatalog
{
    /// <summary>The tag of a source's newest revision, which every source has.</summary>
    public const string LatestTag = "latest";

    /// <summary>Most tags one source lists (a nixpkgs clone has thousands of tags; a client
    /// that lists them all before a pull, as skopeo inspect does, should not wait for them).</summary>
    public const int MaxListedTags = 1000;

    private readonly Dictionary<string, IPackageSource> _named;

    /// <param name="sources">The default first (SourceOptions.Sources).</param>
    public SourceCatalog(IReadOnlyList<SourceDefinition> sources, TimeProvider time, TimeSpan revisionCacheFor, HttpClient http)
    {
        var cache = new RevisionCache(time, revisionCacheFor);
        var all = sources.Select(d => d.Kind switch
        {
            SourceKinds.Path => (IPackageSource)new PathSource(d, cache),
            SourceKinds.Git => new GitSource(d, cache, http),
            SourceKinds.Channel => new ChannelSource(d, cache, http),
            _ => throw new ArgumentException($"unknown source kind {d.Kind}", nameof(sources)),
        }).ToList();
        Default = all.Count > 0 ? all[0] : throw new ArgumentException("no package source", nameof(sources));
        All = all;
        _named = all.Where(s => s.Definition.Name != "default").ToDictionary(s => s.Definition.Name, StringComparer.Ordinal);
    }

    public IPackageSource Default { get; }

    public IReadOnlyList<IPackageSource> All { get; }

    public SourceSelection Select(string name, string tag)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? name : name[..slash];
        if (slash > 0 && _named.TryGetValue(first, out var byName))
        {
            return new SourceSelection(byName, name[(slash + 1)..], tag);
        }

        if (_named.TryGetValue(tag, out var byTag))
        {
            return new SourceSelection(byTag, name, "latest");
        }

        return new SourceSelection(Default, name, tag);
    }

    /// <summary>The tags <paramref name="name"/> answers to, sorted ordinally (the spec's
    /// "ASCIIbetical" order), and the package list the name asks for.</summary>
    public async Task<(string Packages, IReadOnlyList<string> Tags)> ListTagsAsync(string name, CancellationToken cancellationToken)
    {
        var selection = Select(name, LatestTag);
        var tags = new SortedSet<string>(await selection.Source.ListTagsAsync(cancellationToken), StringComparer.Ordinal);
        if (selection.Source == Default && selection.Packages == name)
        {
            tags.UnionWith(_named.Keys);
        }

        return (selection.Packages, [.. tags]);
    }

    public async Task<(SourceSelection Selection, PackageSource Resolved)> ResolveAsync(string name, string tag, CancellationToken cancellationToken)
    {
        var selection = Select(name, tag);
        return (selection, await selection.Source.ResolveAsync(selection.Tag, cancellationToken));
    }
}
