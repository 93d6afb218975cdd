// Layer grouping as Nixery does it: decide which store paths share an image layer so that
// images with overlapping closures end up with identical layers, and clients and the
// registry reuse them instead of pulling or building the same bytes again.
//
// # Inputs
//
// - the runtime graph of the image: every store path of the closure, the paths it
//   references, and its closure size (the path plus everything it references);
// - the top-level paths, i.e. the packages named in the image;
// - popularity: how many packages in the package set refer to each package;
// - the layer budget: how many layers the image may have.
//
// # Algorithm
//
// 1. Take the reference graph (GrouperInput.cs: a QuikGraph graph, one edge per reference;
//    Nix lists each path as referring to itself, those loops are dropped) and add a
//    synthetic root "img" with an edge from it to every top-level path.
// 2. Mark each path that is big or popular (see Thresholds) and give it an extra edge
//    from the root, if it has none yet. Such a path then no longer hides under whichever
//    package happened to pull it in, and becomes a layer of its own.
// 3. Compute the dominator tree of that graph (DominatorTree.cs). A path whose every route
//    from the root goes through package P is dominated by P and travels with it; a path
//    shared by two unrelated packages is dominated only by the root.
// 4. Each subtree under the root is one layer: its root path plus everything it dominates.
//    Merge rating = popularity of the subtree's root × sum of the closure sizes of the
//    paths in the subtree — a big, popular layer is valuable to keep apart.
// 5. Sort the layers by rating, lowest first. While there are more layers than the
//    budget, merge the first layer into the second and drop the first. As in Nixery the
//    list is not re-sorted after a merge, so the merged layer is merged again next.
//
// Deterministic where Nixery leaves it to map order: nodes are numbered by path (ordinal),
// equal ratings are ordered by the path at the root of the layer, and contents are sorted.
// Paths the root cannot reach (a graph that is more than the top-level closure) each get
// an edge from the root, in path order, so that nothing given is left out of the image;
// references to paths that are not in the graph are ignored.
//
// # Thresholds (the values Nixery ships; it calls them first guesses, never tuned)
//
// - big: closure size above 100 MB (100 × 1,000,000 bytes), e.g. a compiler or a JDK;
// - popular: popularity of 100 or more, e.g. glibc, zlib, openssl;
// - nss-cacert and iana-etc are added by Nixery to every image and have few references of
//   their own, so their popularity is forced to 500,000 (more than glibc's ~300,000).
//
// # Example
//
// Graph (G is above the size threshold, E is popular):
//
//   img ──┬──▶ A ──┐
//         ├──▶ B ──┼──▶ E
//         ├──▶ C ──┘
//         └──▶ D ──┬──▶ F
//                  └──▶ G
//
// After the extra edges img → E and img → G, the dominator tree is:
//
//   img ──┬── A
//         ├── B
//         ├── C
//         ├── E
//         ├── D ─── F
//         └── G
//
// giving the layers {A} {B} {C} {D, F} {E} {G}. With ratings in the order A, B, C < DF <
// E < G (the test's numbers), budget 10 keeps all six; budget 4 gives {G} {E} {D, F}
// {A, B, C}; budget 3 {G} {E} {A, B, C, D, F}; budget 2 {G} {A, B, C, D, E, F}; budget 1
// a single layer of all seven paths.
using Nixery.Builder.Nix;
using QuikGraph;
using QuikGraph.Algorithms.Search;

namespace Nixery.Builder.Layers;

public sealed class NixeryLayerGrouper : ILayerGrouper
{
    /// <summary>Closure size above which a path is "big": 100 MB, as in Nixery.</summary>
    public const long SizeThreshold = 100 * 1_000_000L;

    /// <summary>Popularity at or above which a path is "popular", as in Nixery.</summary>
    public const int PopularityThreshold = 100;

    /// <summary>Popularity given to nss-cacert and iana-etc, which every image contains.</summary>
    public const int AlwaysPresentPopularity = 500_000;

    public string Name => "nixery";

    public IReadOnlyList<LayerGroup> Group(RuntimeGraph graph, IReadOnlyList<string> topLevel, Popularity popularity, int budget)
    {
        // Vertex i is the i-th path in ordinal order, whatever the input order; the synthetic
        // root comes after them. The graph allows no parallel edges, so a second root edge to
        // the same path is not added.
        var input = GrouperInput.Read(graph, topLevel, popularity, budget);
        var nodes = input.Paths;
        var edges = input.References;
        var root = nodes.Length;
        edges.AddVertex(root);
        void AddRootEdge(int node) => edges.AddEdge(new SEquatableEdge<int>(root, node));

        var popularityOf = nodes.Select(node => PopularityOf(node.Path, popularity)).ToArray();
        foreach (var path in topLevel)
        {
            AddRootEdge(input.Vertices[path]);
        }

        for (var n = 0; n < nodes.Length; n++)
        {
            if (nodes[n].ClosureSize > SizeThreshold || popularityOf[n] >= PopularityThreshold)
            {
                AddRootEdge(n);
            }
        }

        foreach (var n in UnreachableFromRoot(edges, root))
        {
            AddRootEdge(n);
        }

        var tree = DominatorTree.Compute(edges, root);
        var layers = tree.Children(root)
            .Select(child => SubtreeLayer(tree, child, nodes, popularityOf))
            .OrderBy(layer => layer.Rating)
            .ThenBy(layer => nodes[layer.Root].Path, StringComparer.Ordinal)
            .ToList();

        // Merge the lowest-rated layer into the next until the budget is met; the merged
        // layer keeps its place at the front (no re-sort), exactly as Nixery does.
        var first = 0;
        while (layers.Count - first > budget)
        {
            layers[first + 1].Absorb(layers[first]);
            first++;
        }

        return layers.Skip(first).Select(layer => layer.ToGroup(nodes)).ToList();
    }

    private static int PopularityOf(string path, Popularity popularity)
    {
        var name = StorePaths.Name(path);
        return name.StartsWith("nss-cacert", StringComparison.Ordinal) || name.StartsWith("iana-etc", StringComparison.Ordinal)
            ? AlwaysPresentPopularity
            : popularity.Of(path);
    }

    // The paths that need an edge from the root because it cannot reach them, in path order;
    // each such edge may make further paths reachable, which then need none. That is exactly
    // where QuikGraph's depth-first search starts a new tree once the root's is done: it tries
    // the vertices in the order they were added (path order, see GrouperInput.cs) and starts
    // from each one no earlier tree reached.
    private static List<int> UnreachableFromRoot(BidirectionalGraph<int, SEquatableEdge<int>> edges, int root)
    {
        var starts = new List<int>();
        var search = new DepthFirstSearchAlgorithm<int, SEquatableEdge<int>>(edges) { ProcessAllComponents = true };
        search.StartVertex += start =>
        {
            if (start != root)
            {
                starts.Add(start);
            }
        };
        search.Compute(root);
        return starts;
    }

    private static Draft SubtreeLayer(DominatorTree tree, int root, StorePathInfo[] nodes, int[] popularityOf)
    {
        var members = new List<int>();
        var size = 0UL;
        var pending = new Stack<int>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            members.Add(node);
            size = SaturatingAdd(size, (ulong)Math.Max(0, nodes[node].ClosureSize));
            foreach (var child in tree.Children(node))
            {
                pending.Push(child);
            }
        }

        return new Draft(root, members, SaturatingMultiply((ulong)Math.Max(0, popularityOf[root]), size));
    }

    // Nixery's uint64 arithmetic would wrap on absurd sizes; saturating keeps the order sane.
    private static ulong SaturatingAdd(ulong a, ulong b) => a + b < a ? ulong.MaxValue : a + b;

    private static ulong SaturatingMultiply(ulong a, ulong b)
    {
        var product = (UInt128)a * b;
        return product > ulong.MaxValue ? ulong.MaxValue : (ulong)product;
    }

    // A layer while merging: node numbers only; paths are sorted and hashed once, at the end.
    private sealed class Draft(int root, List<int> members, ulong rating)
    {
        public int Root { get; } = root;

        public ulong Rating { get; private set; } = rating;

        public void Absorb(Draft other)
        {
            members.AddRange(other.Members);
            Rating = SaturatingAdd(Rating, other.Rating);
        }

        private List<int> Members => members;

        public LayerGroup ToGroup(StorePathInfo[] nodes)
        {
            var contents = members.Select(n => nodes[n].Path).ToList();
            contents.Sort(StringComparer.Ordinal);
            return new LayerGroup(contents, Rating);
        }
    }
}
