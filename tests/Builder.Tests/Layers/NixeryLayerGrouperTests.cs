using Nixery.Builder.Layers;
using Nixery.Builder.Nix;
using static Nixery.Builder.Tests.Layers.GraphFixtures;

namespace Nixery.Builder.Tests.Layers;

public class NixeryLayerGrouperTests
{
    private static readonly NixeryLayerGrouper Grouper = new();

    private static LayerGroup Layer(ulong rating, params string[] names) =>
        new(names.Select(StorePath).Order(StringComparer.Ordinal).ToList(), rating);

    private static IReadOnlyList<LayerGroup> GroupWorkedExample(int budget) =>
        Grouper.Group(WorkedExample, WorkedExampleTopLevel, WorkedExamplePopularity, budget);

    // Records compare lists by reference; compare what matters, in order.
    private static void AssertLayers(IReadOnlyList<LayerGroup> expected, IReadOnlyList<LayerGroup> actual) =>
        Assert.Equal(
            expected.Select(l => (string.Join(" ", l.Contents), l.MergeRating)),
            actual.Select(l => (string.Join(" ", l.Contents), l.MergeRating)));

    [Fact]
    public void WorkedExampleWithBudget10KeepsEverySubtreeApart()
    {
        // Nixery's comment lists { E }, { D, F }, { A }, { B }, { C } here and leaves out G,
        // but G is big, so it hangs off the root and is a layer of its own: six layers.
        AssertLayers(
            [
                Layer(11 * MB, "a"),
                Layer(11 * MB, "b"),
                Layer(11 * MB, "c"),
                Layer(154 * MB, "d", "f"),
                Layer(1000 * MB, "e"),
                Layer(1500 * MB, "g"),
            ],
            GroupWorkedExample(10));
    }

    [Fact]
    public void WorkedExampleWithBudget4MergesTheThreeCheapestLayers()
    {
        AssertLayers(
            [
                Layer(33 * MB, "a", "b", "c"),
                Layer(154 * MB, "d", "f"),
                Layer(1000 * MB, "e"),
                Layer(1500 * MB, "g"),
            ],
            GroupWorkedExample(4));
    }

    [Fact]
    public void WorkedExampleWithBudget3KeepsThePopularAndTheBigLayer()
    {
        AssertLayers(
            [
                Layer(187 * MB, "a", "b", "c", "d", "f"),
                Layer(1000 * MB, "e"),
                Layer(1500 * MB, "g"),
            ],
            GroupWorkedExample(3));
    }

    [Fact]
    public void WorkedExampleWithBudget2KeepsOnlyTheBigLayerApart()
    {
        AssertLayers(
            [
                Layer(1187 * MB, "a", "b", "c", "d", "e", "f"),
                Layer(1500 * MB, "g"),
            ],
            GroupWorkedExample(2));
    }

    [Fact]
    public void WorkedExampleWithBudget1PutsEverythingInOneLayer()
    {
        AssertLayers([Layer(2687 * MB, "a", "b", "c", "d", "e", "f", "g")], GroupWorkedExample(1));
    }

    [Fact]
    public void WithoutBigOrPopularPathsSharedOnesStayUnderTheRoot()
    {
        // No popularity data and G no longer big: E is still shared by A, B and C, so it is
        // dominated only by the root; G goes with D.
        var graph = new RuntimeGraph(WorkedExample.Paths.Select(p => p.Path == StorePath("g") ? p with { ClosureSize = 5 * MB } : p).ToList());

        var layers = Grouper.Group(graph, WorkedExampleTopLevel, Popularity.Empty, 10);

        AssertLayers(
            [
                Layer(10 * MB, "e"),
                Layer(11 * MB, "a"),
                Layer(11 * MB, "b"),
                Layer(11 * MB, "c"),
                Layer(159 * MB, "d", "f", "g"),
            ],
            layers);
    }

    [Fact]
    public void CaCertificatesAndIanaEtcAreAlwaysOwnLayers()
    {
        // Both hang under "tool" only, but Nixery treats them as the most popular packages.
        var graph = new RuntimeGraph(
        [
            Node("tool", 3 * MB, "nss-cacert-3.98", "iana-etc-20231227", "lib"),
            Node("nss-cacert-3.98", 1 * MB),
            Node("iana-etc-20231227", 1 * MB),
            Node("lib", 1 * MB),
        ]);

        var layers = Grouper.Group(graph, [StorePath("tool")], Popularity.Empty, 10);

        AssertLayers(
            [
                Layer(4 * MB, "lib", "tool"),
                Layer(500_000 * MB, "iana-etc-20231227"),
                Layer(500_000 * MB, "nss-cacert-3.98"),
            ],
            layers);
    }

    [Fact]
    public void PathsTheTopLevelDoesNotReachStillGetALayer()
    {
        var graph = new RuntimeGraph([Node("app", 2 * MB, "lib"), Node("lib", 1 * MB), Node("stray", 1 * MB)]);

        var layers = Grouper.Group(graph, [StorePath("app")], Popularity.Empty, 10);

        AssertLayers([Layer(1 * MB, "stray"), Layer(3 * MB, "app", "lib")], layers);
    }

    [Fact]
    public void UnreachedPathsHangFromTheRootInPathOrderWithWhatTheyReach()
    {
        // Path order: app, b-data, c-tool, x-tool, y-data. x-tool comes before the y-data it
        // refers to and takes it along; b-data comes before c-tool, which refers to it, so
        // b-data already hangs from the root and stays a layer of its own.
        var graph = new RuntimeGraph(
        [
            Node("app", 4 * MB, "lib"), Node("lib", 1 * MB),
            Node("b-data", 1 * MB), Node("c-tool", 5 * MB, "b-data"),
            Node("x-tool", 2 * MB, "y-data"), Node("y-data", 1 * MB),
        ]);

        var layers = Grouper.Group(graph, [StorePath("app")], Popularity.Empty, 10);

        AssertLayers(
            [Layer(1 * MB, "b-data"), Layer(3 * MB, "x-tool", "y-data"), Layer(5 * MB, "app", "lib"), Layer(5 * MB, "c-tool")],
            layers);
    }

    [Fact]
    public void TopLevelPathMissingFromTheGraphIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => Grouper.Group(WorkedExample, [StorePath("nope")], Popularity.Empty, 10));
        Assert.Contains(StorePath("nope"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShuffledInputGivesTheSameLayers()
    {
        var (graph, topLevel) = RandomDag(600, seed: 7);
        var expected = Grouper.Group(graph, topLevel, WorkedExamplePopularity, 20);

        var random = new Random(42);
        for (var round = 0; round < 5; round++)
        {
            var shuffled = new RuntimeGraph(graph.Paths
                .Select(p => p with { References = p.References.OrderBy(_ => random.Next()).ToList() })
                .OrderBy(_ => random.Next())
                .ToList());
            var shuffledTop = topLevel.OrderBy(_ => random.Next()).ToList();

            var actual = Grouper.Group(shuffled, shuffledTop, WorkedExamplePopularity, 20);

            AssertLayers(expected, actual);
            Assert.Equal(expected.Select(l => l.Key), actual.Select(l => l.Key));
        }
    }

    [Theory]
    [InlineData(93, 93)]
    [InlineData(94, 94)]
    [InlineData(95, 94)]
    public void IndependentPathsAroundTheBudget(int paths, int expectedLayers)
    {
        // Every path is top-level and refers to nothing: one layer each, until the budget.
        // Sizes grow with the index, so the two smallest (p000, p001) are merged first.
        var names = Enumerable.Range(0, paths).Select(i => $"p{i:D3}").ToList();
        var graph = new RuntimeGraph(names.Select((n, i) => Node(n, (i + 1) * MB)).ToList());

        var layers = Grouper.Group(graph, names.Select(StorePath).ToList(), Popularity.Empty, LayerBudget.Default);

        Assert.Equal(expectedLayers, layers.Count);
        Assert.Equal(names.Select(StorePath).Order(StringComparer.Ordinal), layers.SelectMany(l => l.Contents).Order(StringComparer.Ordinal));
        var expectedFirst = paths > LayerBudget.Default
            ? Layer(3 * MB, "p000", "p001")
            : Layer(1 * MB, "p000");
        AssertLayers([expectedFirst], [layers[0]]);
    }

    [Fact]
    public void FiveThousandPathsFitTheBudgetAndEachPathIsInOneLayer()
    {
        var (graph, topLevel) = RandomDag(5_000, seed: 1);

        var layers = Grouper.Group(graph, topLevel, Popularity.Empty, LayerBudget.Default);

        Assert.InRange(layers.Count, 1, LayerBudget.Default);
        Assert.Equal(
            graph.Paths.Select(p => p.Path).Order(StringComparer.Ordinal),
            layers.SelectMany(l => l.Contents).Order(StringComparer.Ordinal));
        Assert.All(layers, l => Assert.Equal(l.Contents.Order(StringComparer.Ordinal), l.Contents));
    }

    [Fact]
    public void BudgetBelowOneIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Grouper.Group(WorkedExample, WorkedExampleTopLevel, Popularity.Empty, 0));
    }

    [Fact]
    public void NameIsNixery()
    {
        Assert.Equal("nixery", Grouper.Name);
    }
}
