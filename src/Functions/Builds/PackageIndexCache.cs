// The HTTP side's reader of package indexes (Core/Sources/PackageIndex.cs, published by the
// worker: Builder/Sources/PackageIndexPublisher.cs): which packages of an image name the package
// set at the resolved revision does not have, so the request is answered 404 without a build
// job (issue 13: made-up names must not queue work ahead of real pulls).
//
// An index is immutable (it belongs to one revision), so one read per process is kept for good;
// a revision with no index yet is looked up again after MissKeptFor, so the first build's index
// is used within seconds of being published. Concurrent requests share one read. A storage
// outage or an unreadable index reads as "no index" (nothing refused on its account): the
// build path that follows reports an outage itself.
//
// Names are matched as the worker resolves them (nix/prepare-image.nix): case-insensitively
// (registry names are lower-case, attributes such as bashInteractive are not), a dotted
// component whole ("python3.11") or by its first part ("debian.git" is a path into the set
// debian), and meta-packages (shell, nonroot) are always known.
using System.Collections.Concurrent;
using Nixery.Core.Names;
using Nixery.Core.Sources;
using Nixery.Core.Storage;

namespace Nixery.Functions.Builds;

public sealed class PackageIndexCache(RegistryStore store, StorageHealth health, TimeProvider time, ILogger<PackageIndexCache> logger)
{
    /// <summary>How long "no index for this revision" is believed before storage is asked again.</summary>
    public static readonly TimeSpan MissKeptFor = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, Lookup> _lookups = new(StringComparer.Ordinal);

    /// <summary>The packages of <paramref name="image"/> that the index of <paramref name="source"/>
    /// lacks, as named; empty when all are known or when there is no index.</summary>
    public async Task<IReadOnlyList<string>> UnknownAsync(ImageRequest image, PackageSource source, CancellationToken ct)
    {
        var names = await GetAsync(source, ct);
        return names is null ? [] : [.. image.Packages.Where(p => !names.Knows(p))];
    }

    private Task<KnownNames?> GetAsync(PackageSource source, CancellationToken ct)
    {
        var path = StorageLayout.PackageIndex(source);
        var now = time.GetUtcNow();
        var lookup = _lookups.AddOrUpdate(
            path,
            _ => new Lookup(ReadAsync(source), now),
            (_, old) => old.Read.IsCompleted && old.Read.Result is null && now - old.Started >= MissKeptFor ? new Lookup(ReadAsync(source), now) : old);
        return lookup.Read.WaitAsync(ct);
    }

    private async Task<KnownNames?> ReadAsync(PackageSource source)
    {
        try
        {
            var index = await store.GetPackageIndexAsync(source, CancellationToken.None);
            if (index is not null)
            {
                logger.LogInformation("using package index of {Kind} {Revision}: {Packages} packages", source.Kind, source.Revision, index.Packages.Count);
            }

            return index is null ? null : new KnownNames(index);
        }
        catch (Exception e)
        {
            // Never a failed task kept in the cache: an unreadable index is no index.
            if (health.IsOutage(e, CancellationToken.None))
            {
                health.ReportFault(e);
            }
            else
            {
                logger.LogWarning(e, "the package index of {Kind} {Revision} could not be read; names are not checked against it", source.Kind, source.Revision);
            }

            return null;
        }
    }

    private sealed record Lookup(Task<KnownNames?> Read, DateTimeOffset Started);

    private sealed class KnownNames(PackageIndex index)
    {
        private readonly HashSet<string> _packages = index.Packages.Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<string> _meta = index.MetaPackages.ToHashSet(StringComparer.Ordinal);

        public bool Knows(string component) =>
            _meta.Contains(component)
            || _packages.Contains(component)
            || (component.IndexOf('.', StringComparison.Ordinal) is > 0 and var dot && _packages.Contains(component[..dot]));
    }
}
