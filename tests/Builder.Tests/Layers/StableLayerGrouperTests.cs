using Nixery.Builder.Layers;
using Nixery.Builder.Nix;
using static Nixery.Builder.Tests.Layers.GraphFixtures;

namespace Nixery.Builder.Tests.Layers;

public class StableLayerGrouperTests
{
    private static readonly StableLayerGrouper Grouper = new();

    /// <summary>The example in StableLayerGrouper.cs: app and what it needs, libc popular.</summary>
    private static readonly RuntimeGraph Example = new(
    [
        Sized("app", 40 * MB, "app-data", "libfoo", "helper", "icons", "fonts"),
        Sized("app-data", 20 * MB),
        Sized("libfoo", 3 * MB, "libc"),
        Sized("helper", 2 * MB, "libc"),
        Sized("libc", 10 * MB),
        Sized("icons", 1 * MB),
        Sized("fonts", MB / 2),
    ]);

    private static readonly Popularity LibcPopular = new(new Dictionary<string, int> { ["libc"] = 1000 });

    private static IReadOnlyList<LayerGroup> GroupExample(int budget, Popularity? popularity = null) =>
        Grouper.Group(Example, [StorePath("app")], popularity ?? LibcPopular, budget);

    private static LayerGroup Layer(ulong rating, params string[] names) =>
        new(names.Select(StorePath).Order(StringComparer.Ordinal).ToList(), rating);

    // Records compare lists by reference; compare what matters, in order.
    private static void AssertLayers(IReadOnlyList<LayerGroup> expected, IReadOnlyList<LayerGroup> actual) =>
        Assert.Equal(
            expected.Select(l => (string.Join(" ", l.Contents), l.MergeRating)),
            actual.Select(l => (string.Join(" ", l.Contents), l.MergeRating)));

    [Fact]
    public void WorkedExampleSplitsTheRestByWhatChangesIt()
    {
        // Budget 5: three paths of their own (libc ranks 10 MB × 4 for popularity 1,000), and
        // the rest split by libc: what changes with libc, and what does not.
        AssertLayers(
            [
                Layer(40 * MB, "app"),
                Layer(40 * MB, "libc"),
                Layer(20 * MB, "app-data"),
                Layer(5 * MB, "helper", "libfoo"),
                Layer(3 * MB / 2, "fonts", "icons"),
            ],
            GroupExample(5));
    }

    [Theory]
    [InlineData(8)] // paths = budget − 1
    [InlineData(7)] // paths = budget
    public void PathsWithinTheBudgetGetALayerEach(int budget)
    {
        AssertLayers(
            [
                Layer(40 * MB, "app"),
                Layer(20 * MB, "app-data"),
                Layer(MB / 2, "fonts"),
                Layer(2 * MB, "helper"),
                Layer(1 * MB, "icons"),
                Layer(40 * MB, "libc"),
                Layer(3 * MB, "libfoo"),
            ],
            GroupExample(budget));
    }

    [Fact]
    public void OnePathOverTheBudgetSplitsTheTwoSmallestStablePathsFromTheRest()
    {
        // Budget 6 (paths = budget + 1): two rest layers, so four paths of their own; the rest,
        // helper, icons and fonts, is split by helper (which changes with libc) from the others.
        AssertLayers(
            [
                Layer(40 * MB, "app"),
                Layer(40 * MB, "libc"),
                Layer(20 * MB, "app-data"),
                Layer(3 * MB, "libfoo"),
                Layer(2 * MB, "helper"),
                Layer(3 * MB / 2, "fonts", "icons"),
            ],
            GroupExample(6));
    }

    [Fact]
    public void BudgetFourLeavesOneLayerForTheRest()
    {
        AssertLayers(
            [
                Layer(40 * MB, "app"),
                Layer(40 * MB, "libc"),
                Layer(20 * MB, "app-data"),
                Layer(13 * MB / 2, "fonts", "helper", "icons", "libfoo"),
            ],
            GroupExample(4));
    }

    [Fact]
    public void BudgetOnePutsEverythingInOneLayer()
    {
        AssertLayers([Layer(213 * MB / 2, "app", "app-data", "fonts", "helper", "icons", "libc", "libfoo")], GroupExample(1));
    }

    [Fact]
    public void PopularityDecidesWhichPathTakesTheLastLayerOfItsOwn()
    {
        // Budget 3: one rest layer, two of their own. By size alone app-data (20 MB) beats libc
        // (10 MB); popular libc ranks 40 MB and takes its place.
        AssertLayers(
            [
                Layer(40 * MB, "app"),
                Layer(20 * MB, "app-data"),
                Layer(33 * MB / 2, "fonts", "helper", "icons", "libc", "libfoo"),
            ],
            GroupExample(3, Popularity.Empty));
        AssertLayers(
            [
                Layer(40 * MB, "app"),
                Layer(40 * MB, "libc"),
                Layer(53 * MB / 2, "app-data", "fonts", "helper", "icons", "libfoo"),
            ],
            GroupExample(3));
    }

    [Fact]
    public void AnUpdateOfLibcResendsOnlyTheLayersThatChangedWithIt()
    {
        // A new libc gives libc and every path above it (libfoo, helper, app) new hashes.
        string Updated(string name) => $"/nix/store/{new string('9', 32)}-{name}";
        var changed = new HashSet<string>(StringComparer.Ordinal) { "app", "libfoo", "helper", "libc" };
        string PathOf(string name) => changed.Contains(name) ? Updated(name) : StorePath(name);
        var updated = new RuntimeGraph([.. Example.Paths.Select(p =>
        {
            var name = StorePaths.Name(p.Path);
            return p with { Path = PathOf(name), References = [.. p.References.Select(r => PathOf(StorePaths.Name(r)))] };
        })]);

        var before = GroupExample(5).Select(l => l.Key).ToHashSet(StringComparer.Ordinal);
        var after = Grouper.Group(updated, [Updated("app")], LibcPopular, 5);

        Assert.Equal(
            [Updated("app"), Updated("libc"), $"{Updated("helper")} {Updated("libfoo")}"],
            after.Where(l => !before.Contains(l.Key)).Select(l => string.Join(" ", l.Contents)));
        Assert.Equal(
            [StorePath("app-data"), $"{StorePath("fonts")} {StorePath("icons")}"],
            after.Where(l => before.Contains(l.Key)).Select(l => string.Join(" ", l.Contents)));
    }

    [Fact]
    public void TheLargestPathsHaveTheSameLayerNextToDifferentNeighbours()
    {
        // Two images over the budget that share a big runtime: its layer is the same in both,
        // whatever else the images hold.
        var python = Sized("python3", 50 * MB, "libc");
        var libc = Sized("libc", 10 * MB);
        var one = new RuntimeGraph([Sized("tool-a", 1 * MB, "python3", "small-a", "small-b"), python, libc, Sized("small-a", 1000), Sized("small-b", 2000)]);
        var two = new RuntimeGraph([Sized("tool-b", 2 * MB, "python3", "libc", "small-c", "small-d"), python, libc, Sized("small-c", 3000), Sized("small-d", 4000)]);

        var first = Grouper.Group(one, [StorePath("tool-a")], Popularity.Empty, 4);
        var second = Grouper.Group(two, [StorePath("tool-b")], Popularity.Empty, 4);

        Assert.Equal(
            [LayerGroup.KeyOf([StorePath("python3")]), LayerGroup.KeyOf([StorePath("libc")])],
            first.Select(l => l.Key).Intersect(second.Select(l => l.Key)));
    }

    [Fact]
    public void IndependentPathsOneOverTheBudgetMergeTheTwoSmallest()
    {
        // 95 paths of 1..95 MB, budget 94: 70 of their own, and the 25 smallest in 24 rest
        // layers: split off one path at a time, largest first, until the two smallest are left.
        var names = Enumerable.Range(0, 95).Select(i => $"p{i:D3}").ToList();
        var graph = new RuntimeGraph(names.Select((n, i) => Sized(n, (i + 1) * MB)).ToList());

        var layers = Grouper.Group(graph, names.Select(StorePath).ToList(), Popularity.Empty, LayerBudget.Default);

        Assert.Equal(LayerBudget.Default, layers.Count);
        AssertLayers([Layer(3 * MB, "p000", "p001")], layers.Where(l => l.Contents.Count > 1).ToList());
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
        }
    }

    [Theory]
    [InlineData(LayerBudget.Default - 1)]
    [InlineData(19)]
    [InlineData(2)]
    public void FiveThousandPathsFitTheBudgetAndEachPathIsInOneLayer(int budget)
    {
        var (graph, topLevel) = RandomDag(5_000, seed: 1);

        var layers = Grouper.Group(graph, topLevel, Popularity.Empty, budget);

        Assert.Equal(budget, layers.Count);
        Assert.Equal(
            graph.Paths.Select(p => p.Path).Order(StringComparer.Ordinal),
            layers.SelectMany(l => l.Contents).Order(StringComparer.Ordinal));
        Assert.All(layers, l => Assert.Equal(l.Contents.Order(StringComparer.Ordinal), l.Contents));
    }

    [Fact]
    public void PathsTheTopLevelDoesNotReachStillGetALayer()
    {
        var graph = new RuntimeGraph([Sized("app", 2 * MB, "lib"), Sized("lib", 1 * MB), Sized("stray", 1 * MB)]);

        var layers = Grouper.Group(graph, [StorePath("app")], Popularity.Empty, 2);

        AssertLayers([Layer(2 * MB, "app"), Layer(2 * MB, "lib", "stray")], layers);
    }

    [Theory]
    [InlineData(1, 10 * MB)]
    [InlineData(0, 10 * MB)]
    [InlineData(2, 25 * MB / 2)]
    [InlineData(9, 35 * MB / 2)]
    [InlineData(10, 20 * MB)]
    [InlineData(1000, 40 * MB)]
    [InlineData(int.MaxValue, 205 * MB / 2)]
    public void RankIsSizeTimesOnePlusLog10PopularityInQuarters(int popularity, ulong rank)
    {
        Assert.Equal(rank, StableLayerGrouper.Rank(10 * MB, popularity));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 1)]
    [InlineData(5, 2)]
    [InlineData(19, 5)]
    [InlineData(LayerBudget.Default - 1, 24)]
    public void AQuarterOfTheBudgetIsKeptForTheRest(int budget, int rest)
    {
        Assert.Equal(rest, StableLayerGrouper.RestLayers(budget));
    }

    [Fact]
    public void TopLevelPathMissingFromTheGraphIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => Grouper.Group(Example, [StorePath("nope")], Popularity.Empty, 10));
        Assert.Contains(StorePath("nope"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BudgetBelowOneIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupExample(0));
    }

    [Fact]
    public void NameIsStable()
    {
        Assert.Equal("stable", Grouper.Name);
    }
}
