// Dominators of a directed graph: our own code, over QuikGraph's graph types, because QuikGraph
// 2.5.0 has no dominator algorithm (its Algorithms namespace has searches, components,
// topological sorts, shortest paths, flows, spanning trees and a few more, none of them
// dominators; gonum's flow package, which Nixery uses, has one but is Go). The depth-first
// search inside is QuikGraph's.
//
// Node d dominates node n when every path from the root to n passes through d; the
// immediate dominator of n is its closest strict dominator, and those edges form a tree.
//
// Method: Cooper, Harvey & Kennedy, "A Simple, Fast Dominance Algorithm" (2001). Number the
// reachable nodes in post-order of a depth-first search, then repeat until nothing changes:
// for each node in reverse post-order, its dominator is the meeting point ("intersect") of
// the dominators of its already-processed predecessors, found by walking both up the
// current tree towards the root, the one with the lower post-order number first. On
// acyclic graphs — which Nix reference graphs are, self-references aside — one pass
// settles it and a second confirms, so a 5,000-path closure takes a few milliseconds.
// The tree does not depend on the order of the search: each graph has exactly one.
using QuikGraph;
using QuikGraph.Algorithms.Search;

namespace Nixery.Builder.Layers;

public sealed class DominatorTree
{
    private readonly int[] _idom;
    private readonly int[][] _children;

    private DominatorTree(int root, int[] idom, int[][] children)
    {
        Root = root;
        _idom = idom;
        _children = children;
    }

    public int Root { get; }

    /// <summary>Closest strict dominator of <paramref name="node"/>; -1 for the root and for nodes the root cannot reach.</summary>
    public int ImmediateDominator(int node) => _idom[node];

    /// <summary>Nodes whose immediate dominator is <paramref name="node"/>, in ascending order.</summary>
    public IReadOnlyList<int> Children(int node) => _children[node];

    /// <param name="graph">Vertices 0 … VertexCount − 1; loops and parallel edges are allowed.</param>
    /// <exception cref="ArgumentException">A vertex is outside 0 … VertexCount − 1.</exception>
    public static DominatorTree Compute<TEdge>(IBidirectionalGraph<int, TEdge> graph, int root)
        where TEdge : IEdge<int>
    {
        ArgumentNullException.ThrowIfNull(graph);
        var count = graph.VertexCount;
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, count);
        if (graph.Vertices.Any(vertex => vertex < 0 || vertex >= count))
        {
            throw new ArgumentException($"the vertices must be 0 … {count - 1}", nameof(graph));
        }

        // Post-order of the nodes the root reaches (QuikGraph's search keeps its own stack, so a
        // deep chain does not overflow the call stack).
        var postOrder = new int[count];
        Array.Fill(postOrder, -1);
        var order = new List<int>(count); // node at each post-order number
        var search = new DepthFirstSearchAlgorithm<int, TEdge>(graph); // the root's tree only
        search.FinishVertex += node =>
        {
            postOrder[node] = order.Count;
            order.Add(node);
        };
        search.Compute(root);

        // Predecessors, in post-order numbers, restricted to reachable nodes.
        var reachable = order.Count;
        var predecessors = new List<int>[reachable];
        for (var i = 0; i < reachable; i++)
        {
            predecessors[i] = [.. graph.InEdges(order[i]).Select(edge => postOrder[edge.Source]).Where(p => p >= 0)];
        }

        // doms[] works in post-order numbers; the root has the highest.
        const int Undefined = -1;
        var doms = new int[reachable];
        Array.Fill(doms, Undefined);
        var rootNumber = reachable - 1;
        doms[rootNumber] = rootNumber;
        var changed = true;
        while (changed)
        {
            changed = false;
            for (var b = rootNumber - 1; b >= 0; b--)
            {
                var newIdom = Undefined;
                foreach (var p in predecessors[b])
                {
                    if (doms[p] == Undefined)
                    {
                        continue;
                    }

                    newIdom = newIdom == Undefined ? p : Intersect(doms, p, newIdom);
                }

                if (doms[b] != newIdom)
                {
                    doms[b] = newIdom;
                    changed = true;
                }
            }
        }

        var idom = new int[count];
        Array.Fill(idom, -1);
        var childLists = new List<int>[count];
        for (var b = 0; b < rootNumber; b++)
        {
            var node = order[b];
            var parent = order[doms[b]];
            idom[node] = parent;
            (childLists[parent] ??= []).Add(node);
        }

        var children = new int[count][];
        for (var n = 0; n < count; n++)
        {
            var list = childLists[n];
            if (list is null)
            {
                children[n] = [];
                continue;
            }

            list.Sort();
            children[n] = [.. list];
        }

        return new DominatorTree(root, idom, children);
    }

    private static int Intersect(int[] doms, int a, int b)
    {
        while (a != b)
        {
            while (a < b)
            {
                a = doms[a];
            }

            while (b < a)
            {
                b = doms[b];
            }
        }

        return a;
    }
}
