// A nixpkgs channel (NIXERY_CHANNEL, or kind "channel" in NIXERY_SOURCES), by name or as a
// tarball URL.
//
//   location            revision                                      the worker fetches
//   nixos-24.05         the commit in channels.nixos.org/<name>/git-revision   github.com/NixOS/nixpkgs/archive/<commit>.tar.gz
//   file://…, https://… sha256 of the tarball's bytes                 that URL (and checks the hash)
//
// A channel name with a 40-hex tag pins that nixpkgs commit; other tags do not matter (as in
// Nixery, where only git sources read the tag). A channel advances a few times a week; its
// revision is looked up at most once per NIXERY_REVISION_CACHE. A tarball URL is hashed on
// each lookup, which reads the whole file: fine for file:// and small sets, costly for a
// remote nixpkgs tarball — prefer a channel name or a commit tarball there.
using System.Security.Cryptography;
using Nixery.Core.Errors;

namespace Nixery.Core.Sources;

public sealed class ChannelSource(SourceDefinition definition, RevisionCache cache, HttpClient http) : IPackageSource
{
    public const string ChannelsBase = "https://channels.nixos.org/";

    public const string ArchiveBase = "https://github.com/NixOS/nixpkgs/archive/";

    public SourceDefinition Definition { get; } = definition;

    private bool IsUrl => Definition.Location.Contains(':', StringComparison.Ordinal);

    public async Task<PackageSource> ResolveAsync(string tag, CancellationToken cancellationToken)
    {
        try
        {
            if (IsUrl)
            {
                var hash = await cache.GetAsync(Definition.Location, () => HashTarballAsync(Definition.Location), cancellationToken);
                return new PackageSource(SourceKinds.Channel, Definition.Location, hash);
            }

            var commit = GitSource.IsCommit(tag)
                ? tag.ToLowerInvariant()
                : await cache.GetAsync(Definition.Location, ChannelCommitAsync, cancellationToken);
            return new PackageSource(SourceKinds.Channel, $"{ArchiveBase}{commit}.tar.gz", commit);
        }
        catch (SourceUnavailableException e)
        {
            throw new RegistryException(ErrorCode.Unavailable, $"package source '{Definition.Name}' (channel {Definition.Location}) could not be read: {e.Message}");
        }
    }

    /// <summary>Only <c>latest</c>: a channel moves on one line (a commit can be asked for, but
    /// no list of them is worth giving).</summary>
    public Task<IReadOnlyList<string>> ListTagsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([SourceCatalog.LatestTag]);

    /// <summary>"sha256-&lt;hex&gt;" of the bytes at a file:// or http(s):// URL.</summary>
    public async Task<string> HashTarballAsync(string url)
    {
        try
        {
            await using var stream = await OpenAsync(http, url, CancellationToken.None);
            return await RevisionOfAsync(stream, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or UnauthorizedAccessException or TaskCanceledException)
        {
            throw new SourceUnavailableException($"{url} could not be read: {e.Message}", e);
        }
    }

    /// <summary>A tarball's revision: "sha256-&lt;hex&gt;" of its bytes.</summary>
    public static async Task<string> RevisionOfAsync(Stream content, CancellationToken cancellationToken) =>
        "sha256-" + Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken));

    /// <summary>Opens a file:// or http(s):// URL for reading.</summary>
    public static async Task<Stream> OpenAsync(HttpClient http, string url, CancellationToken cancellationToken)
    {
        var uri = new Uri(url);
        if (uri.IsFile)
        {
            return File.OpenRead(uri.LocalPath);
        }

        var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStreamAsync(cancellationToken);
    }

    private async Task<string> ChannelCommitAsync()
    {
        var url = $"{ChannelsBase}{Definition.Location}/git-revision";
        string text;
        try
        {
            text = (await http.GetStringAsync(url)).Trim();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new SourceUnavailableException($"{url} could not be read: {e.Message}", e);
        }

        return GitSource.IsCommit(text) ? text.ToLowerInvariant() : throw new SourceUnavailableException($"{url} does not hold a commit");
    }
}
