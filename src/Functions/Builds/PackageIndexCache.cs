// The HTTP side's reader of package indexes (Core/Sources/PackageIndex.cs, published by the
// worker: Builder/Sources/PackageIndexPublisher.cs): which packages of an image name the package
// set at the resolved revision does not have, so the request is answered 404 without a build
// job (issue 13: made-up names must not queue work ahead of real pulls).
//
// An index is immutable (it belongs to one revision), so one read per process is kept for good.
// "No index yet" is not kept: the next cold-build request reads again (one small read beside
// the image and status reads it makes anyway), so an index is used from the moment it is
// published. Kept for 5 s, it let a flood that began within 5 s of the first build's lookup
// through to the queue (measured: 10 of 300 made-up names were queued, the rest stopped only by
// NIXERY_MAX_QUEUED_PER_CLIENT). Concurrent requests share one read in flight. A storage
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

public sealed class PackageIndexCache(RegistryStore store, StorageHealth health, ILogger<PackageIndexCache> logger)
{
    private readonly ConcurrentDictionary<string, Task<KnownNames?>> _lookups = new(StringComparer.Ordinal);

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
        var read = _lookups.AddOrUpdate(
            path,
            _ => ReadAsync(source),
            (_, old) => old.IsCompleted && old.Result is null ? ReadAsync(source) : old);
        return read.WaitAsync(ct);
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
