// Dominators of a directed graph, our own code because QuikGraph (and gonum's flow package,
// which Nixery uses) is not available here.
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

    public bool IsReachable(int node) => node == Root || _idom[node] >= 0;

    /// <param name="successors">successors[n] lists the targets of n's edges; nodes are 0..Length-1.</param>
    public static DominatorTree Compute(IReadOnlyList<IReadOnlyList<int>> successors, int root)
    {
        ArgumentNullException.ThrowIfNull(successors);
        var count = successors.Count;
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, count);

        // Post-order by an explicit-stack DFS (a deep chain must not overflow the call stack).
        var postOrder = new int[count];
        Array.Fill(postOrder, -1);
        var order = new List<int>(count); // node at each post-order number
        var visited = new bool[count];
        var stack = new Stack<(int Node, int NextEdge)>();
        visited[root] = true;
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            var edges = successors[node];
            if (next < edges.Count)
            {
                stack.Push((node, next + 1));
                var target = edges[next];
                if (!visited[target])
                {
                    visited[target] = true;
                    stack.Push((target, 0));
                }
            }
            else
            {
                postOrder[node] = order.Count;
                order.Add(node);
            }
        }

        // Predecessors, in post-order numbers, restricted to reachable nodes.
        var reachable = order.Count;
        var predecessors = new List<int>[reachable];
        for (var i = 0; i < reachable; i++)
        {
            predecessors[i] = [];
        }

        for (var i = 0; i < reachable; i++)
        {
            foreach (var target in successors[order[i]])
            {
                predecessors[postOrder[target]].Add(i);
            }
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
