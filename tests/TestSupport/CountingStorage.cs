// Counts the calls made on a storage backend, by kind (the IStorageBackend method, and a staged
// upload's commit) and by what the path is (its StorageLayout prefix, leases told apart from
// layer records), so that a test can hold a build to a per-layer budget of storage round trips
// and bench/latency can report them (issue 16, point 5). Counts are deterministic for a given
// image and starting storage: they depend on what is there, never on timing — except progress
// writes, which BuildAttempt spaces by the clock and which callers therefore count apart.
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Nixery.Core.Storage;

namespace Nixery.TestSupport;

public sealed class CountingStorage(IStorageBackend inner) : IStorageBackend
{
    private readonly ConcurrentDictionary<(string Kind, string Area), int> _calls = new();

    public string Name => inner.Name;

    public string Location => inner.Location;

    /// <summary>Every call so far, by kind and area ("blobs", "layers", "leases", "status" …).</summary>
    public IReadOnlyDictionary<(string Kind, string Area), int> Calls => new Dictionary<(string, string), int>(_calls);

    public int Total => _calls.Values.Sum();

    /// <summary>Calls of one area (all kinds).</summary>
    public int In(string area) => _calls.Where(c => c.Key.Area == area).Sum(c => c.Value);

    public void Reset() => _calls.Clear();

    /// <summary>"blobs", "layers", "leases" (layer leases and any other *.lease), "status",
    /// "images", "catalog", "referrers", "staging", "popularity" …: the first path segment.</summary>
    public static string AreaOf(string path) =>
        path.EndsWith(StorageLayout.LeaseSuffix, StringComparison.Ordinal) ? "leases"
        : path.IndexOf('/', StringComparison.Ordinal) is > 0 and var slash ? path[..slash]
        : path;

    /// <summary>One line per area: "area: total (kind n, kind n)", areas and kinds in ordinal order.</summary>
    public string Describe() => string.Join('\n', _calls
        .GroupBy(c => c.Key.Area)
        .OrderBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => $"{g.Key}: {g.Sum(c => c.Value)} ({string.Join(", ", g.OrderBy(c => c.Key.Kind, StringComparer.Ordinal).Select(c => $"{c.Key.Kind} {c.Value}"))})"));

    public Task ProbeAsync(CancellationToken cancellationToken) => inner.ProbeAsync(cancellationToken);

    public bool IsOutage(Exception fault) => inner.IsOutage(fault);

    public Task<BlobProperties?> StatAsync(string path, CancellationToken cancellationToken)
    {
        Count("stat", path);
        return inner.StatAsync(path, cancellationToken);
    }

    public Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        Count("read", path);
        return inner.OpenReadAsync(path, cancellationToken);
    }

    public Task WriteAsync(string path, Stream content, string? contentType, CancellationToken cancellationToken)
    {
        Count("write", path);
        return inner.WriteAsync(path, content, contentType, cancellationToken);
    }

    public Task<bool> TryCreateAsync(string path, ReadOnlyMemory<byte> content, string? contentType, CancellationToken cancellationToken)
    {
        Count("create", path);
        return inner.TryCreateAsync(path, content, contentType, cancellationToken);
    }

    public Task<bool> TryReplaceAsync(string path, ReadOnlyMemory<byte> content, string expectedETag, string? contentType, CancellationToken cancellationToken)
    {
        Count("replace", path);
        return inner.TryReplaceAsync(path, content, expectedETag, contentType, cancellationToken);
    }

    public Task<string?> TryCreateVersionedAsync(string path, ReadOnlyMemory<byte> content, string? contentType, CancellationToken cancellationToken)
    {
        Count("create", path);
        return inner.TryCreateVersionedAsync(path, content, contentType, cancellationToken);
    }

    public Task<string?> TryReplaceVersionedAsync(string path, ReadOnlyMemory<byte> content, string expectedETag, string? contentType, CancellationToken cancellationToken)
    {
        Count("replace", path);
        return inner.TryReplaceVersionedAsync(path, content, expectedETag, contentType, cancellationToken);
    }

    public async Task<IStagedUpload> BeginStagedUploadAsync(CancellationToken cancellationToken) =>
        new CountedUpload(this, await inner.BeginStagedUploadAsync(cancellationToken));

    public Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        Count("delete", path);
        return inner.DeleteAsync(path, cancellationToken);
    }

    public Task<bool> TryDeleteAsync(string path, string expectedETag, CancellationToken cancellationToken)
    {
        Count("delete", path);
        return inner.TryDeleteAsync(path, expectedETag, cancellationToken);
    }

    public async IAsyncEnumerable<(string Path, DateTimeOffset Modified)> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Count("list", prefix);
        await foreach (var entry in inner.ListAsync(prefix, cancellationToken))
        {
            yield return entry;
        }
    }

    public Task<Uri?> GetRedirectUrlAsync(string path, string contentType, CancellationToken cancellationToken) =>
        inner.GetRedirectUrlAsync(path, contentType, cancellationToken);

    private void Count(string kind, string path) => _calls.AddOrUpdate((kind, AreaOf(path)), 1, (_, n) => n + 1);

    /// <summary>A staged upload counts once, at its commit, under the area it lands in (the
    /// bytes it streams are one upload, whatever the backend cuts them into).</summary>
    private sealed class CountedUpload(CountingStorage owner, IStagedUpload inner) : IStagedUpload
    {
        public Stream Content => inner.Content;

        public Task CommitAsync(string finalPath, string? contentType, CancellationToken cancellationToken)
        {
            owner.Count("upload", finalPath);
            return inner.CommitAsync(finalPath, contentType, cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
