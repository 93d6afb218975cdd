// The package search of the web page, over one PackageIndex (the default source's attributes at
// its current revision). A plain substring match, case-insensitive, ranked: the name itself,
// then names that start with the query, then names that contain it, then descriptions that do;
// ties by name (ordinal). The index is sorted and small (tens of thousands of names for
// nixpkgs), so a linear pass per query is cheap next to reading the index.
using Nixery.Core.Sources;

namespace Nixery.Functions.Web;

public static class PackageSearch
{
    public static IReadOnlyList<IndexedPackage> Find(PackageIndex index, string query, int max) =>
        [.. index.Packages
            .Select(p => (Package: p, Rank: Rank(p, query)))
            .Where(r => r.Rank >= 0)
            .OrderBy(r => r.Rank)
            .ThenBy(r => r.Package.Name, StringComparer.Ordinal)
            .Take(max)
            .Select(r => r.Package)];

    /// <summary>0 the name, 1 a name prefix, 2 in the name, 3 in the description, -1 no match.</summary>
    private static int Rank(IndexedPackage package, string query) =>
        string.Equals(package.Name, query, StringComparison.OrdinalIgnoreCase) ? 0
        : package.Name.StartsWith(query, StringComparison.OrdinalIgnoreCase) ? 1
        : package.Name.Contains(query, StringComparison.OrdinalIgnoreCase) ? 2
        : package.Description?.Contains(query, StringComparison.OrdinalIgnoreCase) == true ? 3
        : -1;
}
