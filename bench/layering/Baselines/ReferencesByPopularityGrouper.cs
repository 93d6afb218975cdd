// nixpkgs' layering, as dockerTools.buildLayeredImage does it with referencesByPopularity
// (pkgs/build-support/references-by-popularity/closure-graph.py and mkManyPureLayers),
// re-implemented here as a baseline; it is not used by the registry.
//
// Popularity contest: the roots are the paths no other path of the closure refers to. Every
// path's references form a tree in which shared paths appear once per route; counting from
// the leaves up, a subtree contributes to each path below it its own count plus one, and each
// path counts itself once per appearance. As a recurrence over p's direct references c:
//
//   f(p)[q] = Σ_c ( [q = c] + (f(c)[q] + 1 if q is below c) ),   popularity = f(root)
//
// where "root" refers to every root. closure-graph.py's own example: A → B, G; B → C, E;
// C → D, E; D → F; E → F gives A 1, B 2, C 3, D 4, E 5, F 9, G 2. Computed here per path q
// over the paths above it (a QuikGraph search up the reversed graph), in dependency order
// (the order QuikGraph's depth-first search finishes them), in doubles (the counts grow with
// the number of routes and outgrow 64 bits on real closures; equal counts stay equal).
//
// Order: popularity, highest first; equal popularity by the path with its hash moved to the
// end ("bash-5.2-/nix/store/abc"), ordinal. Layers: with a budget of n, the first n − 1
// paths get a layer each and every other path goes into one last layer (mkManyPureLayers:
// `head -n $((maxLayers - 1))`, then the rest when there are maxLayers or more).
using Nixery.Builder.Layers;
using Nixery.Builder.Nix;
using QuikGraph;
using QuikGraph.Algorithms.Search;

namespace Nixery.Bench.Layering.Baselines;

public sealed class ReferencesByPopularityGrouper : ILayerGrouper
{
    public string Name => "nixpkgs";

    public IReadOnlyList<LayerGroup> Group(RuntimeGraph graph, IReadOnlyList<string> topLevel, Popularity popularity, int budget)
    {
        var order = Order(graph);
        var layers = new List<LayerGroup>();
        for (var i = 0; i < order.Count && i < budget - 1; i++)
        {
            layers.Add(new LayerGroup([order[i].Path], Rating(order[i].Popularity)));
        }

        if (order.Count >= budget)
        {
            var rest = order.Skip(budget - 1).ToList();
            layers.Add(new LayerGroup([.. rest.Select(r => r.Path).Order(StringComparer.Ordinal)], Rating(rest.Min(r => r.Popularity))));
        }

        return layers;
    }

    /// <summary>
    /// Throws unless this re-implementation gives the popularity and order that closure-graph.py
    /// documents for its example graph, and the counts its unit test expects (foo 1, bar 2,
    /// baz 4, tux 6).
    /// </summary>
    public static void CheckAgainstClosureGraphExample()
    {
        static RuntimeGraph Graph(params (string Name, string[] References)[] nodes) =>
            new([.. nodes.Select(n => new StorePathInfo(StorePath(n.Name), [StorePath(n.Name), .. n.References.Select(StorePath)], 1, 1))]);

        var example = Order(Graph(("a", ["b", "g"]), ("b", ["c", "e"]), ("c", ["d", "e"]), ("d", ["f"]), ("e", ["f"]), ("f", []), ("g", [])));
        var test = Order(Graph(("foo", ["bar", "baz"]), ("bar", ["baz"]), ("baz", ["tux"]), ("tux", [])));
        var got = string.Join(" ", example.Select(e => $"{StorePaths.Name(e.Path)}:{e.Popularity}")) + " | " +
            string.Join(" ", test.Select(e => $"{StorePaths.Name(e.Path)}:{e.Popularity}"));
        const string Expected = "f:9 e:5 d:4 c:3 b:2 g:2 a:1 | tux:6 baz:4 bar:2 foo:1";
        if (got != Expected)
        {
            throw new InvalidOperationException($"referencesByPopularity re-implementation is off: {got}, expected {Expected}");
        }

        static string StorePath(string name) => $"/nix/store/{new string('0', 32)}-{name}";
    }

    /// <summary>Every path with its contest popularity, in referencesByPopularity's order.</summary>
    public static IReadOnlyList<(string Path, double Popularity)> Order(RuntimeGraph graph)
    {
        var paths = graph.Paths.Select(p => p.Path).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var index = paths.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => x.i, StringComparer.Ordinal);

        // Vertex i is paths[i], each reference an edge (once); vertex paths.Count is the virtual
        // root, with an edge to every root.
        var root = paths.Count;
        var references = new BidirectionalGraph<int, SEquatableEdge<int>>(allowParallelEdges: false, paths.Count + 1);
        references.AddVertexRange(Enumerable.Range(0, paths.Count + 1));
        foreach (var info in graph.Paths)
        {
            var from = index[info.Path];
            foreach (var reference in info.References)
            {
                if (reference != info.Path && index.TryGetValue(reference, out var to))
                {
                    references.AddEdge(new SEquatableEdge<int>(from, to));
                }
            }
        }

        references.AddEdgeRange(Enumerable.Range(0, paths.Count).Where(references.IsInEdgesEmpty).Select(r => new SEquatableEdge<int>(root, r)).ToList());

        // Each path after everything it refers to: the order QuikGraph's depth-first search
        // finishes them in (the root, which nothing refers to, last).
        var position = new int[paths.Count + 1];
        var finished = 0;
        var search = new DepthFirstSearchAlgorithm<int, SEquatableEdge<int>>(references);
        search.FinishVertex += node => position[node] = finished++;
        search.Compute();

        // One search up the reversed graph, run again from each path (see PackageGraph.Reachable).
        var up = new ImplicitDepthFirstSearchAlgorithm<int, SReversedEdge<int, SEquatableEdge<int>>>(
            new ReversedBidirectionalGraph<int, SEquatableEdge<int>>(references));
        var popularity = new double[paths.Count];
        var count = new double[paths.Count + 1];
        var above = new bool[paths.Count + 1]; // above[p]: p is q or q is below p
        for (var q = 0; q < paths.Count; q++)
        {
            // The paths above q (those q is below), each once, in dependency order.
            up.Compute(q);
            var reached = up.VerticesColors.Keys.ToArray();
            Array.Clear(above);
            foreach (var p in reached)
            {
                above[p] = true;
            }

            Array.Sort(reached, (a, b) => position[a].CompareTo(position[b]));
            foreach (var p in reached.Where(p => p != q))
            {
                var sum = 0.0;
                foreach (var c in references.OutEdges(p).Select(edge => edge.Target))
                {
                    if (c == q)
                    {
                        sum += 1;
                    }
                    else if (above[c])
                    {
                        sum += count[c] + 1;
                    }
                }

                count[p] = sum;
            }

            popularity[q] = count[root];
        }

        return [.. Enumerable.Range(0, paths.Count)
            .OrderByDescending(i => popularity[i])
            .ThenBy(i => NameFirst(paths[i]), StringComparer.Ordinal)
            .Select(i => (paths[i], popularity[i]))];
    }

    // closure-graph.py's package_name: "/nix/store/abc-bash-5.2" → "bash-5.2-/nix/store/abc".
    private static string NameFirst(string path)
    {
        var parts = path.Split('-').ToList();
        var first = parts[0];
        parts.RemoveAt(0);
        parts.Add(first);
        return string.Join('-', parts);
    }

    private static ulong Rating(double popularity) => popularity >= ulong.MaxValue ? ulong.MaxValue : (ulong)popularity;
}
