// A package set in a git repository (NIXERY_PKGS_REPO, or kind "git" in NIXERY_SOURCES),
// as in Nixery: the tag picks the revision.
//
//   tag                       revision                           looked up
//   40 hex digits             that commit                        never (pinned: cached forever)
//   latest                    the commit of the default branch   git ls-remote <repo> HEAD
//   anything else             the commit of that tag or branch   git ls-remote <repo> refs/tags/<tag> refs/heads/<tag>
//
// An http(s) repository is read without git, from its smart-HTTP ref advertisement
// (SmartHttpRefs); others (paths, ssh, git://) through `git ls-remote`.
// A tag and a branch of the same name: the tag wins, as in `git rev-parse`. Lookups of
// moving targets are remembered for NIXERY_REVISION_CACHE (RevisionCache).
using System.Text.RegularExpressions;
using Nixery.Core.Errors;
using Nixery.Core.Names;

namespace Nixery.Core.Sources;

public sealed partial class GitSource(SourceDefinition definition, RevisionCache cache, HttpClient http) : IPackageSource
{
    /// <summary>How long one ls-remote may take before the source counts as unreachable.</summary>
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(30);

    public SourceDefinition Definition { get; } = definition;

    public async Task<PackageSource> ResolveAsync(string tag, CancellationToken cancellationToken)
    {
        if (CommitPattern().IsMatch(tag))
        {
            return Resolved(tag.ToLowerInvariant());
        }

        try
        {
            var commit = await cache.GetAsync($"{Definition.Location}\n{tag}", () => LookUpAsync(tag), cancellationToken);
            return Resolved(commit);
        }
        catch (SourceUnavailableException e)
        {
            throw new RegistryException(ErrorCode.Unavailable, $"package source '{Definition.Name}' ({Definition.Location}) could not be read: {e.Message}");
        }
        catch (RefNotFoundException)
        {
            throw new RegistryException(
                ErrorCode.ManifestUnknown,
                $"tag '{tag}' is not a branch or tag of {Definition.Location}; use latest, a branch, a tag or a 40-digit commit");
        }
    }

    private PackageSource Resolved(string commit) => new(SourceKinds.Git, Definition.Location, commit);

    /// <summary><c>latest</c>, the branches and the tags that are valid registry tags (a branch
    /// "feature/x" is not: a tag has no slash), the first <see cref="SourceCatalog.MaxListedTags"/>
    /// in ordinal order; read as a revision is, at most once per NIXERY_REVISION_CACHE.</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var listed = await cache.GetAsync($"{Definition.Location}\nrefs", ListRefNamesAsync, cancellationToken);
            return [SourceCatalog.LatestTag, .. listed.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
        }
        catch (SourceUnavailableException e)
        {
            throw new RegistryException(ErrorCode.Unavailable, $"package source '{Definition.Name}' ({Definition.Location}) could not be read: {e.Message}");
        }
    }

    private async Task<string> ListRefNamesAsync()
    {
        IEnumerable<string> refs;
        if (IsHttp)
        {
            refs = (await SmartHttpRefs.ReadAsync(http, Definition.Location, LookupTimeout)).Keys;
        }
        else
        {
            var output = await GitCli.RunAsync(["ls-remote", "--heads", "--tags", "--", Definition.Location], null, LookupTimeout, CancellationToken.None);
            refs = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t', 2)).Where(parts => parts.Length == 2).Select(parts => parts[1].Trim());
        }

        var names = refs
            .Select(r => r.StartsWith("refs/heads/", StringComparison.Ordinal) ? r["refs/heads/".Length..]
                : r.StartsWith("refs/tags/", StringComparison.Ordinal) && !r.EndsWith("^{}", StringComparison.Ordinal) ? r["refs/tags/".Length..]
                : null)
            .OfType<string>()
            .Where(n => n != SourceCatalog.LatestTag && ReferenceGrammar.IsValidTag(n))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Take(SourceCatalog.MaxListedTags - 1);
        return string.Join('\n', names);
    }

    private bool IsHttp => Definition.Location.StartsWith("https://", StringComparison.Ordinal) || Definition.Location.StartsWith("http://", StringComparison.Ordinal);

    private async Task<string> LookUpAsync(string tag)
    {
        IReadOnlyDictionary<string, string> refs;
        if (IsHttp)
        {
            // No git needed: the HTTP host on Azure Functions has none (SmartHttpRefs).
            refs = await SmartHttpRefs.ReadAsync(http, Definition.Location, LookupTimeout);
        }
        else
        {
            string[] patterns = tag == "latest" ? ["HEAD"] : [$"refs/tags/{tag}", $"refs/tags/{tag}^{{}}", $"refs/heads/{tag}"];
            var output = await GitCli.RunAsync(["ls-remote", "--", Definition.Location, .. patterns], null, LookupTimeout, CancellationToken.None);
            refs = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split('\t', 2))
                .Where(parts => parts.Length == 2 && CommitPattern().IsMatch(parts[0]))
                .ToDictionary(parts => parts[1].Trim(), parts => parts[0], StringComparer.Ordinal);
        }

        // An annotated tag's own object is not a commit; its peeled line (^{}) is.
        foreach (var name in tag == "latest" ? ["HEAD"] : new[] { $"refs/tags/{tag}^{{}}", $"refs/tags/{tag}", $"refs/heads/{tag}" })
        {
            if (refs.TryGetValue(name, out var commit))
            {
                return commit;
            }
        }

        throw new RefNotFoundException();
    }

    /// <summary>A full commit id: 40 hex digits, either case (a pinned revision).</summary>
    public static bool IsCommit(string text) => CommitPattern().IsMatch(text);

    [GeneratedRegex("^[0-9a-fA-F]{40}$")]
    private static partial Regex CommitPattern();

    private sealed class RefNotFoundException : Exception;
}
