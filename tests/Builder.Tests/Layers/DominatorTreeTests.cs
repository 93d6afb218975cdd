using Nixery.Builder.Layers;
using QuikGraph;

namespace Nixery.Builder.Tests.Layers;

public class DominatorTreeTests
{
    // successors[n] lists the targets of n's edges, as written in each test.
    private static BidirectionalGraph<int, SEquatableEdge<int>> Graph(int[][] successors)
    {
        var graph = new BidirectionalGraph<int, SEquatableEdge<int>>();
        graph.AddVertexRange(Enumerable.Range(0, successors.Length));
        for (var n = 0; n < successors.Length; n++)
        {
            graph.AddEdgeRange(successors[n].Select(target => new SEquatableEdge<int>(n, target)));
        }

        return graph;
    }

    private static int[] ImmediateDominators(int[][] successors, int root = 0)
    {
        var tree = DominatorTree.Compute(Graph(successors), root);
        return Enumerable.Range(0, successors.Length).Select(tree.ImmediateDominator).ToArray();
    }

    [Fact]
    public void DiamondJoinIsDominatedByTheFork()
    {
        //   0
        //  / \
        // 1   2
        //  \ /
        //   3
        int[][] graph = [[1, 2], [3], [3], []];

        Assert.Equal([-1, 0, 0, 0], ImmediateDominators(graph));
    }

    [Fact]
    public void ChainIsDominatedStepByStep()
    {
        int[][] graph = [[1], [2], [3], [4], []];

        Assert.Equal([-1, 0, 1, 2, 3], ImmediateDominators(graph));
    }

    [Fact]
    public void SharedDependenciesMoveUpToTheirCommonDominator()
    {
        // 0 → 1, 2;  1 → 3, 5;  2 → 3;  3 → 4;  5 → 6;  4 → 6;  7 is unreachable.
        // 3 is reached through 1 and 2, so only 0 dominates it; 6 through 5 and 4 → 0 too.
        int[][] graph = [[1, 2], [3, 5], [3], [4], [6], [6], [], [6]];

        Assert.Equal([-1, 0, 0, 0, 3, 1, 0, -1], ImmediateDominators(graph));
    }

    [Fact]
    public void SubtreeWithPrivateAndSharedParts()
    {
        // 0 → 1, 2;  1 → 3, 4;  3 → 5;  4 → 5;  2 → 6;  5 → 6
        // 5 is private to 1 (via 3 or 4); 6 is shared by 2 and 5.
        int[][] graph = [[1, 2], [3, 4], [6], [5], [5], [6], []];
        var tree = DominatorTree.Compute(Graph(graph), 0);

        Assert.Equal([-1, 0, 0, 1, 1, 1, 0], Enumerable.Range(0, 7).Select(tree.ImmediateDominator));
        Assert.Equal([1, 2, 6], tree.Children(0));
        Assert.Equal([3, 4, 5], tree.Children(1));
    }

    [Fact]
    public void CyclesAndSelfLoopsDoNotConfuseIt()
    {
        // 0 → 1;  1 → 2;  2 → 1, 2, 3
        int[][] graph = [[1], [2], [1, 2, 3], []];

        Assert.Equal([-1, 0, 1, 2], ImmediateDominators(graph));
    }

    [Fact]
    public void RootNeedNotBeNodeZero()
    {
        // 2 is the root: 2 → 0, 1;  0 → 1
        int[][] graph = [[1], [], [0, 1]];

        Assert.Equal([2, 2, -1], ImmediateDominators(graph, root: 2));
    }

    [Fact]
    public void DeepChainDoesNotOverflowTheStack()
    {
        const int Length = 200_000;
        var graph = Enumerable.Range(0, Length).Select(i => i + 1 < Length ? new[] { i + 1 } : []).ToArray();

        var idoms = ImmediateDominators(graph);

        Assert.Equal(Length - 2, idoms[Length - 1]);
    }
}
