// The ILayerGrouper contract's checks on its arguments, shared by every grouper, and the
// graph's paths in the one order groupers work in: each path once, ordinal by path, so no
// grouping depends on the order of the input lists.
using Nixery.Builder.Nix;

namespace Nixery.Builder.Layers;

internal static class GrouperInput
{
    /// <summary>The graph's paths, de-duplicated and sorted ordinally; throws for null
    /// arguments, a budget below 1, or a top-level path that is not in the graph.</summary>
    public static StorePathInfo[] SortedPaths(RuntimeGraph graph, IReadOnlyList<string> topLevel, Popularity popularity, int budget)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(topLevel);
        ArgumentNullException.ThrowIfNull(popularity);
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);

        var infos = new SortedDictionary<string, StorePathInfo>(StringComparer.Ordinal);
        foreach (var info in graph.Paths)
        {
            infos.TryAdd(info.Path, info);
        }

        foreach (var path in topLevel)
        {
            if (!infos.ContainsKey(path))
            {
                throw new ArgumentException($"top-level path {path} is not in the runtime graph", nameof(topLevel));
            }
        }

        return [.. infos.Values];
    }
}
