// What one collection freed, per kind of object, as the log line and the dry-run command show
// it. A dry run reports what a collection at that moment would delete.
namespace Nixery.Core.Collection;

/// <summary>How many objects of one kind, and their bytes.</summary>
public readonly record struct Freed(int Count, long Bytes)
{
    public Freed Add(long bytes) => new(Count + 1, Bytes + bytes);

    public override string ToString() => $"{Count} ({Bytes} bytes)";
}

/// <param name="DryRun">Nothing was deleted; the counts are what would have been.</param>
/// <param name="Skipped">Why nothing was collected (retention off), or null.</param>
/// <param name="BlobsDeferred">Builds were running, so unreferenced blobs (and referrers indexes
/// and catalog entries) were left for the next collection (GarbageCollector, "Builds in progress").</param>
public sealed record CollectionReport(
    bool DryRun,
    string? Skipped,
    Freed Images,
    Freed Blobs,
    Freed LayerRecords,
    Freed Referrers,
    Freed Statuses,
    Freed PullRecords,
    Freed CatalogEntries,
    int ImagesKept,
    int BlobsKept,
    bool BlobsDeferred)
{
    public static CollectionReport Off(bool dryRun, string why) => new(dryRun, why, default, default, default, default, default, default, default, 0, 0, false);

    public long BytesFreed => Images.Bytes + Blobs.Bytes + LayerRecords.Bytes + Referrers.Bytes + Statuses.Bytes + PullRecords.Bytes + CatalogEntries.Bytes;
}
