// The ILayerGrouper contract's checks on its arguments, shared by every grouper, and the
// graph groupers work on: each path once, numbered in ordinal order of its path, so no
// grouping depends on the order of the input lists; the references between them as a
// QuikGraph graph, so searches over it are QuikGraph's (DepthFirstSearchAlgorithm) rather
// than ours.
//
// Order: QuikGraph enumerates a graph's vertices in the order they were added and a vertex's
// out-edges in the order they were added (it keeps them in a Dictionary and Lists), and its
// searches follow that order. Vertices are added 0, 1, 2, … and edges by ascending target, so
// every search here walks the paths in ordinal order.
using Nixery.Builder.Nix;
using QuikGraph;

namespace Nixery.Builder.Layers;

/// <param name="Paths">Vertex i is Paths[i]: each path of the graph once, sorted ordinally.</param>
/// <param name="Vertices">Path → its vertex.</param>
/// <param name="References">
/// Vertices 0 … Paths.Length − 1; an edge i → j for each path j that path i refers to, once, in
/// ascending j. A path's reference to itself (Nix lists one for every path) and references to
/// paths outside the graph are left out. A fresh graph for each call: groupers may add to it.
/// </param>
internal sealed record StorePathGraph(
    StorePathInfo[] Paths,
    IReadOnlyDictionary<string, int> Vertices,
    BidirectionalGraph<int, SEquatableEdge<int>> References);

internal static class GrouperInput
{
    /// <summary>The graph's paths and references (see <see cref="StorePathGraph"/>); throws for null
    /// arguments, a budget below 1, or a top-level path that is not in the graph.</summary>
    public static StorePathGraph Read(RuntimeGraph graph, IReadOnlyList<string> topLevel, Popularity popularity, int budget)
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

        StorePathInfo[] paths = [.. infos.Values];
        var vertices = new Dictionary<string, int>(paths.Length, StringComparer.Ordinal);
        for (var i = 0; i < paths.Length; i++)
        {
            vertices[paths[i].Path] = i;
        }

        var references = new BidirectionalGraph<int, SEquatableEdge<int>>(allowParallelEdges: false, paths.Length);
        references.AddVertexRange(Enumerable.Range(0, paths.Length));
        for (var i = 0; i < paths.Length; i++)
        {
            var targets = paths[i].References
                .Where(reference => reference != paths[i].Path && vertices.ContainsKey(reference))
                .Select(reference => vertices[reference])
                .Distinct()
                .Order();
            references.AddEdgeRange(targets.Select(target => new SEquatableEdge<int>(i, target)));
        }

        return new StorePathGraph(paths, vertices, references);
    }
}
