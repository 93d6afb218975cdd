// Which store paths change in scenario (b), by a seeded rule over the paths the images hold.
//
// A path's reach is how many other paths of the images depend on it, directly or not: all of
// them get new store paths when it changes. Categories, as fractions of the distinct paths U
// held by all images:
//
//   base  the C library (libc6 with libgcc-s1, one node), plus BaseCount others drawn
//         from those that reach at least a quarter of U;
//   mid   MidCount drawn from those that reach 1% to a quarter of U;
//   leaf  LeafCount libraries (a member named lib*) drawn from those that reach at least
//         one path but under 1% of U.
//
// Each change is its own update of the package set, measured from the original set.
using Nixery.Bench.Layering.Corpus;
using QuikGraph;
using QuikGraph.Predicates;

namespace Nixery.Bench.Layering.Scenarios;

public static class Changes
{
    public const int LeafCount = 10;
    public const int MidCount = 10;
    public const int BaseCount = 3;

    public static string Rule =>
        $"changes: libc6 + {BaseCount} drawn from paths reaching >= 25% of the images' paths (base), " +
        $"{MidCount} reaching 1-25% (mid), {LeafCount} lib* reaching >= 1 path and < 1% (leaf)";

    public static IReadOnlyList<Change> Draw(PackageGraph graph, IReadOnlyList<Image> images, int seed)
    {
        var held = images.SelectMany(image => image.Closure).ToHashSet();
        var reach = held.ToDictionary(n => n, n => Reach(graph, held, n));
        var total = (double)held.Count;
        var random = new Random(seed);
        var libc = graph.NodeOf("libc6");

        List<int> Pick(Func<int, bool> category, int count)
        {
            var pool = held.Where(n => n != libc && category(n)).Order().ToArray();
            random.Shuffle(pool);
            return [.. pool.Take(count)];
        }

        var changes = new List<Change> { new(libc, "base") };
        changes.AddRange(Pick(n => reach[n] >= total / 4, BaseCount).Select(n => new Change(n, "base")));
        changes.AddRange(Pick(n => reach[n] >= total / 100 && reach[n] < total / 4, MidCount).Select(n => new Change(n, "mid")));
        changes.AddRange(Pick(n => reach[n] >= 1 && reach[n] < total / 100 && graph.Nodes[n].Members.Any(m => m.StartsWith("lib", StringComparison.Ordinal)), LeafCount)
            .Select(n => new Change(n, "leaf")));
        return changes;
    }

    /// <summary>How many paths of <paramref name="held"/> depend on the node, directly or not.</summary>
    public static int Reach(PackageGraph graph, IReadOnlySet<int> held, int node)
    {
        // Up the dependency edges (the graph reversed), through held paths only: closures are
        // closed downwards, so every route between two held paths stays in held.
        var dependents = new FilteredIncidenceGraph<int, SReversedEdge<int, SEquatableEdge<int>>, ReversedBidirectionalGraph<int, SEquatableEdge<int>>>(
            new ReversedBidirectionalGraph<int, SEquatableEdge<int>>(graph.Edges), held.Contains, _ => true);
        return PackageGraph.Reachable(dependents, node).Count - 1;
    }
}
